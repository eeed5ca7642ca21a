// The run's own record, kept by the workflow: steps, approvals, status.
// Deterministic: time comes from the workflow clock, nothing here does I/O.
import { ApplicationFailure, setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AuditEventInput, AuditEventType } from '../src/audit/types.js';
import { PENDING_MEMO, SA } from './definitions.js';
import {
  approvalIdFor,
  groupsThatMayDecide,
  type Decision,
  type RunIdentity,
  ErrorTypes,
  type Approval,
  type DecideApprovalInput,
  type Json,
  type ModelUse,
  type RunInput,
  type RunUsage,
  type RunStatus,
  type RunView,
  type StepView,
} from './types.js';

/** Steps per workflow run before the run continues as new. */
export const STEPS_PER_WORKFLOW_RUN = 100;

export class RunState {
  status: RunStatus = 'running';
  readonly steps: StepView[] = [];
  readonly approvals: Approval[] = [];
  result: Json = null;
  error?: { type: string; message: string };
  waitingFor?: string;
  risk: 'low' | 'medium' | 'high' = 'low';
  usage: RunUsage = { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  finalModel?: ModelUse;
  /** Audit events not yet written; each carries an id fixed here, so writing it again is a no-op. */
  private auditQueue: AuditEventInput[] = [];
  private auditSeq = 0;

  constructor(readonly input: RunInput) {
    // A run continued as new carries its record forward.
    const c = input.carried;
    if (c) {
      this.steps.push(...c.steps);
      this.approvals.push(...c.approvals);
      this.usage = { ...c.usage };
      this.risk = c.risk;
    }
  }

  /** What a continued run starts from. */
  carry(): NonNullable<RunInput['carried']> {
    return { steps: this.steps, approvals: this.approvals, usage: this.usage, risk: this.risk };
  }

  addUsage(m: ModelUse): void {
    const u = this.usage;
    this.usage = {
      calls: u.calls + 1,
      inputTokens: u.inputTokens + m.inputTokens,
      outputTokens: u.outputTokens + m.outputTokens,
      costUsd: Math.round((u.costUsd + m.costUsd) * 1e6) / 1e6,
    };
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
    const b = this.input.agent.budget;
    if (!b) return undefined;
    const tokens = this.usage.inputTokens + this.usage.outputTokens;
    if (b.tokens !== undefined && tokens >= b.tokens) return `the run used ${tokens} model tokens; its budget is ${b.tokens}`;
    if (b.costUsd !== undefined && this.usage.costUsd >= b.costUsd) return `the run's model calls cost $${this.usage.costUsd}; its budget is $${b.costUsd}`;
    return undefined;
  }

  /** Queues an audit event of this run (written by the next activity that carries the queue). */
  note(type: AuditEventType, fields: Omit<AuditEventInput, 'eventId' | 'chain' | 'type' | 'at' | 'runId'> = { data: {} }): void {
    const id = this.identity;
    this.auditQueue.push({
      eventId: `${workflowInfo().runId}/w${++this.auditSeq}`,
      chain: `run:${this.input.runId}`,
      type,
      at: new Date(Date.now()).toISOString(),
      runId: this.input.runId,
      principal: id.subject,
      ...(id.onBehalfOf ? { onBehalfOf: id.onBehalfOf } : {}),
      agent: this.input.agent.name,
      ...fields,
    });
  }

  /** Raises the run's risk level by a decision (it never goes down). */
  raiseRisk(d: Decision): void {
    const level = d.outcome !== 'allow' ? 'high' : d.write ? 'medium' : 'low';
    const order = ['low', 'medium', 'high'] as const;
    if (order.indexOf(level) > order.indexOf(this.risk)) this.risk = level;
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
    if (!s) throw ApplicationFailure.nonRetryable('no current step', 'InternalError');
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
      usage: this.usage,
      ...(this.finalModel ? { finalModel: this.finalModel } : {}),
      ...(this.error ? { error: this.error } : {}),
      ...(this.waitingFor ? { waitingFor: this.waitingFor } : {}),
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

  /** Subjects that can never decide this run's approvals. */
  private get conflicted(): string[] {
    const id = this.identity;
    return [this.input.principal.subject, id.subject, ...(id.onBehalfOf ? [id.onBehalfOf] : [])];
  }

  requestApproval(step: StepView, decision: Decision, edit?: { by: string; replaces: Approval }): Approval {
    const req = decision.approval!;
    const now = Date.now();
    const revision = this.approvals.filter((a) => a.step === step.index).length;
    const id = this.identity;
    const approval: Approval = {
      approvalId: approvalIdFor(this.input.runId, step.index, revision),
      runId: this.input.runId,
      step: step.index,
      tool: step.tool,
      args: decision.args,
      digest: decision.digest,
      policyVersion: decision.policyVersion,
      policyIds: decision.policyIds,
      reason: decision.reason,
      requiredGroup: req.group,
      quorum: req.quorum,
      ...(req.escalateTo && req.escalateAfterMs && req.escalateAfterMs < req.expiresAfterMs
        ? { escalateTo: req.escalateTo, escalatesAt: new Date(now + req.escalateAfterMs).toISOString() }
        : {}),
      escalated: false,
      requestedBy: this.input.principal.subject,
      ...(id.onBehalfOf ? { onBehalfOf: id.onBehalfOf } : {}),
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + req.expiresAfterMs).toISOString(),
      status: 'pending',
      votes: [],
      ...(edit ? { editedBy: edit.by, replaces: edit.replaces.approvalId } : {}),
    };
    if (edit) {
      edit.replaces.status = 'superseded';
      edit.replaces.supersededBy = approval.approvalId;
    }
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
    return this.approvals.filter((a) => a.step === step).at(-1);
  }

  escalate(a: Approval): void {
    a.escalated = true;
    this.noteApproval('approval.escalated', a, { data: { escalateTo: a.escalateTo ?? null } });
    this.refreshWaiting();
    this.publish();
  }

  private refreshWaiting(): void {
    const pending = this.approvals.filter((a) => a.status === 'pending');
    this.waitingFor = pending.length
      ? pending
          .map((a) => {
            const n = a.votes.filter((v) => v.decision === 'approve').length;
            const who = groupsThatMayDecide(a).map((g) => `"${g}"`).join(' or ');
            return `approval by ${a.quorum > 1 ? `${a.quorum} distinct members (${n} so far)` : 'a member'} of ${who} for ${a.tool} (${a.approvalId}) until ${a.expiresAt}`;
          })
          .join('; ')
      : undefined;
  }

  /** Update validator: rejects synchronously, before anything is written to history. */
  validateDecision(d: DecideApprovalInput): void {
    const a = this.approvals.find((x) => x.approvalId === d.approvalId);
    if (!a) throw ApplicationFailure.create({ type: ErrorTypes.NotFound, message: `approval ${d.approvalId} not found in this run` });
    if (a.status === 'superseded')
      throw ApplicationFailure.create({ type: ErrorTypes.AlreadyDecided, message: `approval ${a.approvalId} was replaced by ${a.supersededBy} after an edit` });
    if (a.status === 'expired' || (a.status === 'pending' && Date.parse(a.expiresAt) <= Date.now()))
      throw ApplicationFailure.create({ type: ErrorTypes.Expired, message: `approval ${a.approvalId} expired at ${a.expiresAt}` });
    if (a.status !== 'pending')
      throw ApplicationFailure.create({ type: ErrorTypes.AlreadyDecided, message: `approval ${a.approvalId} is already ${a.status}` });
    if (this.conflicted.includes(d.approver.subject))
      throw ApplicationFailure.create({ type: ErrorTypes.Forbidden, message: 'the requester of a run, and whoever it acts for, cannot decide its approvals' });
    const groups = groupsThatMayDecide(a);
    if (!groups.some((g) => d.approver.groups.includes(g))) {
      const later = a.escalateTo && !a.escalated && d.approver.groups.includes(a.escalateTo) ? ` (group "${a.escalateTo}" may decide after ${a.escalatesAt})` : '';
      throw ApplicationFailure.create({ type: ErrorTypes.Forbidden, message: `approval requires a member of group "${a.requiredGroup}"${later}` });
    }
    if (a.votes.some((v) => v.by === d.approver.subject))
      throw ApplicationFailure.create({ type: ErrorTypes.AlreadyDecided, message: `${d.approver.subject} has already decided approval ${a.approvalId}; the same approver counts once` });
    if (d.digest !== undefined && d.digest !== a.digest)
      throw ApplicationFailure.create({ type: ErrorTypes.DigestMismatch, message: `approval ${a.approvalId} is bound to digest ${a.digest}, not ${d.digest}` });
    if (d.args !== undefined && d.decision !== 'approve')
      throw ApplicationFailure.create({ type: ErrorTypes.InvalidEdit, message: 'only an approval can carry edited args' });
  }

  /** Records a vote (the validator has accepted it). Any rejection ends the approval; a quorum approves it. */
  vote(d: DecideApprovalInput): Approval {
    const a = this.approvals.find((x) => x.approvalId === d.approvalId)!;
    const at = new Date(Date.now()).toISOString();
    a.votes.push({ by: d.approver.subject, decision: d.decision, at, ...(d.comment ? { comment: d.comment } : {}) });
    const approvers = new Set(a.votes.filter((v) => v.decision === 'approve').map((v) => v.by));
    if (d.decision === 'reject' || approvers.size >= a.quorum) {
      a.status = d.decision === 'reject' ? 'rejected' : 'approved';
      a.decidedBy = d.approver.subject;
      a.decidedAt = at;
      if (d.comment) a.comment = d.comment;
    }
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
    if (a.status === 'pending') {
      a.status = 'expired';
      this.noteApproval('approval.expired', a, { outcome: 'expired', data: { expiresAt: a.expiresAt } });
    }
    this.refreshWaiting();
    this.status = this.waitingFor ? 'awaiting_approval' : 'running';
    this.publish();
  }

  finish(status: Exclude<RunStatus, 'running' | 'awaiting_approval'>, result: Json, error?: { type: string; message: string }): void {
    for (const a of this.approvals) if (a.status === 'pending') a.status = 'cancelled';
    this.status = status;
    this.result = result;
    this.error = error;
    this.waitingFor = undefined;
    this.note(`run.${status}`, { outcome: status, data: { steps: this.steps.length, ...(error ? { error } : {}) } });
    this.publish();
  }

  /** Mirrors the run's state into search attributes, memo and current details for the UI and the API. */
  publish(): void {
    const pending = this.approvals.filter((a) => a.status === 'pending');
    upsertSearchAttributes([
      { key: SA.status, value: this.status },
      { key: SA.pendingGroups, value: [...new Set(pending.flatMap((a) => groupsThatMayDecide(a)))] },
      { key: SA.risk, value: this.risk },
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
