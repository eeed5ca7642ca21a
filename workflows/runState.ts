// The run's own record, kept by the workflow: steps, approvals, status. A thin adapter: the rules are the
// core's (src/core/approvals.ts, src/core/run.ts); this adds the workflow clock, the audit queue and what
// Temporal shows (search attributes, memo, current details). Deterministic: nothing here does I/O.
import { patched, setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AuditEventInput, AuditEventType } from '../src/audit/types.js';
import * as book from '../src/core/approvals.js';
import * as inputs from '../src/core/inputs.js';
import { ErrorCode } from '../src/core/errors.js';
import { initialLabels, joinLabels, labelsRose, raiseLabels, type RunLabels, type SeenResult } from '../src/core/labels.js';
import { addUsage, overBudget, raiseRisk, reconciliationOf, type Risk } from '../src/core/run.js';
import type {
  ApprovalRequirement,
  Decision,
  RunIdentity,
  Approval,
  DecideApprovalInput,
  Json,
  JsonObject,
  Reconciliation,
  ModelUse,
  PendingInput,
  ProvideInputInput,
  RunInput,
  RunUsage,
  RunStatus,
  RunView,
  StepView,
} from '../src/core/types.js';
import { PENDING_MEMO, SA } from './definitions.js';
import { asFailure, failure } from './failure.js';

/** How a run ends (or continues in a fresh workflow run, so history stays small). */
export type Outcome = { status: 'completed'; result: Json } | { status: 'rejected'; result: Json } | { status: 'failed'; type: string; message: string } | { status: 'continue' };

/**
 * Runs started before data-flow labels existed replay without the records and search-attribute updates a rise
 * of labels makes (the labels themselves are kept either way: they are state, not commands).
 */
export const LABELS_PATCH = 'airlock-labels';

/** Steps per workflow run before the run continues as new. */
export const STEPS_PER_WORKFLOW_RUN = 100;

export class RunState {
  status: RunStatus = 'running';
  readonly steps: StepView[] = [];
  readonly approvals: Approval[] = [];
  result: Json = null;
  error?: { type: string; message: string };
  waitingFor?: string;
  risk: Risk = 'low';
  usage: RunUsage = { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  finalModel?: ModelUse;
  reconciliation?: Reconciliation;
  /** Who asked for the cancellation through the API, and why. */
  cancelRequest?: { by: string; reason?: string };
  /** Questions the graph asked with interrupt(), and the graph nodes run so far (agents written as graphs). */
  readonly inputs: PendingInput[] = [];
  readonly path: string[] = [];
  /** How the run ends, when a node decides it from inside the graph (a rejection, a failed call, a limit, the built-in agent's answer). */
  stopped?: Outcome;
  /** Decisions on args an approver edited, by step: what runs (and is audited) instead of the first decision. */
  readonly editDecisions = new Map<number, Decision>();
  /** Told of every event the run notes (notifications, workflows/notify.ts); set at the start of the workflow. */
  listener?: { onEvent(e: AuditEventInput): void };
  /** What the run has touched (src/core/labels.ts): only ever rises, and is carried across continue-as-new. */
  labels: RunLabels;
  /** Audit events not yet written; each carries an id fixed here, so writing it again is a no-op. */
  private auditQueue: AuditEventInput[] = [];
  private auditSeq = 0;

  constructor(readonly input: RunInput) {
    this.labels = initialLabels(input.agent.inputLabels);
    // A run continued as new carries its record forward.
    const c = input.carried;
    if (c?.labels) this.labels = joinLabels(this.labels, c.labels);
    if (c) {
      this.steps.push(...c.steps);
      this.approvals.push(...c.approvals);
      this.usage = { ...c.usage };
      this.risk = c.risk;
      this.path.push(...(c.path ?? []));
      this.inputs.push(...(c.inputs ?? []));
    }
  }

  /** What a continued run starts from. */
  carry(): NonNullable<RunInput['carried']> {
    return { steps: this.steps, approvals: this.approvals, usage: this.usage, risk: this.risk, path: this.path, inputs: this.inputs, labels: this.labels };
  }

  /**
   * The run has seen a tool's result: its labels take on the result's classification and trust. A rise is
   * recorded (`run.labels`, with what caused it) and shown in the Temporal UI's search attributes.
   */
  see(seen: SeenResult, step: number): void {
    const next = raiseLabels(this.labels, seen);
    if (!labelsRose(this.labels, next)) return;
    this.labels = next;
    if (!patched(LABELS_PATCH)) return;
    this.note('run.labels', { server: seen.server, tool: seen.tool, data: { step, labels: { ...next }, cause: { ...seen } } });
    this.publish();
  }

  addUsage(m: ModelUse): void {
    this.usage = addUsage(this.usage, m);
  }

  /**
   * At a step boundary with nothing pending: when Temporal suggests it, or every 100 steps, the run
   * continues as a new workflow run carrying its record, so history never nears its limits.
   */
  shouldContinueAsNew(): boolean {
    if (this.approvals.some((a) => a.status === 'pending')) return false;
    const sinceStart = this.steps.length - (this.input.carried?.steps.length ?? 0);
    return sinceStart > 0 && (workflowInfo().continueAsNewSuggested || sinceStart >= STEPS_PER_WORKFLOW_RUN);
  }

  /** The per-run budget this run has used up, if any. */
  overBudget(): string | undefined {
    return overBudget(this.input.agent.budget, this.usage);
  }

  /** Queues an audit event of this run (written by the next activity that carries the queue). */
  note(type: AuditEventType, fields: Omit<AuditEventInput, 'eventId' | 'chain' | 'type' | 'at' | 'runId'> = { data: {} }): void {
    const id = this.identity;
    const event: AuditEventInput = {
      eventId: `${workflowInfo().runId}/w${++this.auditSeq}`,
      chain: `run:${this.input.runId}`,
      type,
      at: new Date(Date.now()).toISOString(),
      runId: this.input.runId,
      principal: id.subject,
      ...(id.onBehalfOf ? { onBehalfOf: id.onBehalfOf } : {}),
      agent: this.input.agent.name,
      ...fields,
    };
    this.auditQueue.push(event);
    this.listener?.onEvent(event);
  }

  /** Raises the run's risk level by a decision (it never goes down). */
  raiseRisk(d: Decision): void {
    this.risk = raiseRisk(this.risk, d);
  }

  /** Hands the queued events to an activity; give them back with `requeueAudit` if it fails. */
  takeAudit(): AuditEventInput[] {
    return this.auditQueue.splice(0);
  }

  requeueAudit(events: AuditEventInput[]): void {
    this.auditQueue.unshift(...events);
  }

  private noteApproval(type: AuditEventType, a: Approval, extra: { principal?: string; outcome?: string; data?: AuditEventInput['data'] } = {}): void {
    const [server, ...rest] = a.tool.split('.');
    this.note(type, {
      server,
      tool: rest.join('.'),
      ...(extra.principal ? { principal: extra.principal } : {}),
      ...(extra.outcome ? { outcome: extra.outcome } : {}),
      data: { approvalId: a.approvalId, step: a.step, digest: a.digest, requiredGroup: a.requiredGroup, quorum: a.quorum, ...extra.data },
    });
  }

  get current(): StepView {
    const s = this.steps[this.steps.length - 1];
    if (!s) throw failure(ErrorCode.InternalError, 'no current step');
    return s;
  }

  view(): RunView {
    return {
      runId: this.input.runId,
      agent: this.input.agent.name,
      requester: this.input.principal.subject,
      identity: this.identity,
      status: this.status,
      steps: this.steps,
      pendingApprovals: this.approvals.filter((a) => a.status === 'pending'),
      approvals: this.approvals,
      result: this.result,
      path: this.path,
      inputs: this.inputs,
      pendingInputs: this.inputs.filter((i) => i.status === 'pending'),
      usage: this.usage,
      ...(this.finalModel ? { finalModel: this.finalModel } : {}),
      ...(this.reconciliation ? { reconciliation: this.reconciliation } : {}),
      ...(this.status === 'cancelled' && this.cancelRequest ? { cancelledBy: this.cancelRequest.by } : {}),
      ...(this.error ? { error: this.error } : {}),
      ...(this.waitingFor ? { waitingFor: this.waitingFor } : {}),
      labels: this.labels,
    };
  }

  addStep(step: Omit<StepView, 'index'>): StepView {
    const s: StepView = { index: this.steps.length, ...step };
    this.steps.push(s);
    return s;
  }

  /** The identity the run acts for: the principal unless a service started it on someone's behalf. */
  get identity(): RunIdentity {
    const p = this.input.principal;
    return this.input.identity ?? { kind: p.kind, subject: p.subject, groups: p.groups };
  }

  requestApproval(step: StepView, decision: Decision & { approval: ApprovalRequirement }, edit?: { by: string; replaces: Approval }): Approval {
    const id = this.identity;
    const approval = book.openApproval({
      runId: this.input.runId,
      step: step.index,
      tool: step.tool,
      decision,
      requestedBy: this.input.principal.subject,
      runsAs: id.subject,
      ...(id.onBehalfOf ? { onBehalfOf: id.onBehalfOf } : {}),
      now: Date.now(),
      revision: this.approvals.filter((a) => a.step === step.index).length,
      ...(edit ? { edit } : {}),
    });
    this.approvals.push(approval);
    this.noteApproval('approval.requested', approval, {
      data: {
        args: approval.args,
        reason: approval.reason,
        policyIds: approval.policyIds,
        policyVersion: approval.policyVersion,
        expiresAt: approval.expiresAt,
        ...(approval.escalateTo ? { escalateTo: approval.escalateTo, escalatesAt: approval.escalatesAt! } : {}),
        ...(edit ? { replaces: edit.replaces.approvalId, editedBy: edit.by } : {}),
      },
    });
    step.status = 'awaiting_approval';
    step.approvalId = approval.approvalId;
    this.status = 'awaiting_approval';
    this.refreshWaiting();
    this.publish();
    return approval;
  }

  /** The newest approval of a step (edits supersede older ones). */
  latestApproval(step: number): Approval | undefined {
    return book.latestApproval(this.approvals, step);
  }

  escalate(a: Approval): void {
    book.escalate(a);
    this.noteApproval('approval.escalated', a, { data: { escalateTo: a.escalateTo ?? null } });
    this.refreshWaiting();
    this.publish();
  }

  private refreshWaiting(): void {
    this.waitingFor = book.waitingFor(this.approvals);
  }

  /** Update validator: rejects synchronously, before anything is written to history. */
  validateDecision(d: DecideApprovalInput): void {
    asFailure(() =>
      book.checkDecision(
        this.approvals.find((x) => x.approvalId === d.approvalId),
        d,
        Date.now(),
      ),
    );
  }

  /** Records a vote (the validator has accepted it). Any rejection ends the approval; a quorum approves it. */
  vote(d: DecideApprovalInput): Approval {
    const a = this.approvals.find((x) => x.approvalId === d.approvalId)!;
    book.castVote(a, d, new Date(Date.now()).toISOString());
    this.noteApproval('approval.decided', a, {
      principal: d.approver.subject,
      outcome: d.decision,
      data: { approver: d.approver.subject, decision: d.decision, comment: d.comment ?? null, settled: a.status, ...(d.editedArgs ? { editedArgs: d.editedArgs } : {}) },
    });
    this.refreshWaiting();
    this.publish();
    return a;
  }

  settleApproval(a: Approval): void {
    if (book.expire(a)) {
      this.noteApproval('approval.expired', a, { outcome: 'expired', data: { expiresAt: a.expiresAt } });
    }
    this.refreshWaiting();
    this.status = this.openStatus();
    this.publish();
  }

  finish(status: Exclude<RunStatus, 'running' | 'awaiting_approval' | 'awaiting_input'>, result: Json, error?: { type: string; message: string }): void {
    book.cancelPending(this.approvals);
    for (const i of this.inputs) if (i.status === 'pending') i.status = 'cancelled';
    this.status = status;
    this.result = result;
    this.error = error;
    this.waitingFor = undefined;
    // Work left half done (a change ran, the run did not complete): a record a person can act on.
    const r = reconciliationOf(this.steps, status, error);
    if (r) {
      this.reconciliation = r;
      this.note('run.reconciliation', { outcome: 'needs_reconciliation', data: { reason: r.reason, done: r.done, notDone: r.notDone } as unknown as JsonObject });
    }
    // The run's end is its last record; a cancellation names who asked for it, when it came through the API.
    const by = status === 'cancelled' ? this.cancelRequest : undefined;
    this.note(`run.${status}`, {
      outcome: status,
      ...(by ? { principal: by.by } : {}),
      data: { steps: this.steps.length, ...(error ? { error } : {}), ...(by ? { cancelledBy: by.by, reason: by.reason ?? null } : {}) },
    });
    this.publish();
  }

  /** What an open run waits for: an approval first, then a person's input, else nothing. */
  private openStatus(): RunStatus {
    if (this.approvals.some((a) => a.status === 'pending')) return 'awaiting_approval';
    return this.inputs.some((i) => i.status === 'pending') ? 'awaiting_input' : 'running';
  }

  /** A graph node started (the path shown in the run view). */
  enterNode(node: string): void {
    this.path.push(node);
  }

  /** The graph asked for human input: the run waits until each question is answered. */
  askForInput(questions: Array<{ value: Json; node?: string }>, groups: string[]): PendingInput[] {
    const id = this.identity;
    const asked = questions.map((q) => {
      const p: PendingInput = {
        inputId: inputs.inputIdFor(this.input.runId, this.inputs.length + 1),
        value: q.value,
        ...(q.node ? { node: q.node } : {}),
        askedAt: new Date(Date.now()).toISOString(),
        requester: this.input.principal.subject,
        ...(id.onBehalfOf ? { onBehalfOf: id.onBehalfOf } : {}),
        groups,
        status: 'pending',
      };
      this.inputs.push(p);
      this.note('input.requested', { data: { inputId: p.inputId, value: p.value, node: p.node ?? null, groups } });
      return p;
    });
    this.status = 'awaiting_input';
    this.waitingFor = `input from ${this.input.principal.subject}${groups.length ? ` or a member of ${groups.map((g) => `"${g}"`).join(', ')}` : ''} (${asked.map((a) => a.inputId).join(', ')})`;
    this.publish();
    return asked;
  }

  /** Update validator for answers. */
  validateAnswer(d: ProvideInputInput): void {
    asFailure(() =>
      inputs.checkAnswer(
        this.inputs.find((i) => i.inputId === d.inputId),
        d,
      ),
    );
  }

  answerInput(d: ProvideInputInput): PendingInput {
    const p = inputs.answer(
      this.inputs.find((i) => i.inputId === d.inputId)!,
      d,
      new Date(Date.now()).toISOString(),
    );
    this.note('input.answered', { principal: d.answerer.subject, outcome: 'answered', data: { inputId: p.inputId, answer: p.answer ?? null, node: p.node ?? null } });
    if (!this.inputs.some((i) => i.status === 'pending')) {
      this.status = this.openStatus();
      this.refreshWaiting();
    }
    this.publish();
    return p;
  }

  /** Mirrors the run's state into search attributes, memo and current details for the UI and the API. */
  publish(): void {
    const pending = this.approvals.filter((a) => a.status === 'pending');
    upsertSearchAttributes([
      { key: SA.status, value: this.status },
      { key: SA.pendingGroups, value: [...new Set(pending.flatMap((a) => book.groupsThatMayDecide(a)))] },
      { key: SA.risk, value: this.risk },
      { key: SA.classification, value: this.labels.classification },
      { key: SA.untrusted, value: this.labels.untrusted },
      { key: SA.serversSeen, value: this.labels.servers },
    ]);
    upsertMemo({ [PENDING_MEMO]: pending });
    setCurrentDetails(this.details());
  }

  private details(): string {
    const lines = [`**${this.input.agent.name}** run for **${this.input.principal.subject}**: ${this.status}`];
    if (this.waitingFor) lines.push('', `Waiting for ${this.waitingFor}.`);
    for (const a of this.approvals.filter((x) => x.status === 'pending'))
      lines.push('', `- \`${a.tool}\` args \`${JSON.stringify(a.args)}\` (${a.reason}; policy ${a.policyVersion}) — decide with POST /v1/approvals/${a.approvalId}/decision`);
    if (this.error) lines.push('', `Error (${this.error.type}): ${this.error.message}`);
    return lines.join('\n');
  }
}
