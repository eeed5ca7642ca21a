// The run's own record, kept by the workflow: steps, approvals, status.
// Deterministic: time comes from the workflow clock, nothing here does I/O.
import { ApplicationFailure, setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { PENDING_MEMO, SA } from './definitions.js';
import {
  approvalIdFor,
  ErrorTypes,
  type Approval,
  type DecideApprovalInput,
  type Json,
  type RunInput,
  type RunStatus,
  type RunView,
  type StepView,
} from './types.js';

export class RunState {
  status: RunStatus = 'running';
  readonly steps: StepView[] = [];
  readonly approvals: Approval[] = [];
  result: Json = null;
  error?: { type: string; message: string };
  waitingFor?: string;

  constructor(readonly input: RunInput) {}

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
      status: this.status,
      steps: this.steps,
      pendingApprovals: this.approvals.filter((a) => a.status === 'pending'),
      approvals: this.approvals,
      result: this.result,
      ...(this.error ? { error: this.error } : {}),
      ...(this.waitingFor ? { waitingFor: this.waitingFor } : {}),
    };
  }

  addStep(step: Omit<StepView, 'index'>): StepView {
    const s: StepView = { index: this.steps.length, ...step };
    this.steps.push(s);
    return s;
  }

  requestApproval(step: StepView, requiredGroup: string, expiresMs: number): Approval {
    const now = Date.now();
    const approval: Approval = {
      approvalId: approvalIdFor(this.input.runId, step.index),
      runId: this.input.runId,
      step: step.index,
      tool: step.tool,
      args: step.args,
      requiredGroup,
      requestedBy: this.input.principal.subject,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + expiresMs).toISOString(),
      status: 'pending',
    };
    this.approvals.push(approval);
    step.status = 'awaiting_approval';
    step.approvalId = approval.approvalId;
    this.status = 'awaiting_approval';
    this.waitingFor = `approval by group "${requiredGroup}" of ${step.tool} (${approval.approvalId}) until ${approval.expiresAt}`;
    this.publish();
    return approval;
  }

  /** Update validator: rejects synchronously, before anything is written to history. */
  validateDecision(d: DecideApprovalInput): void {
    const a = this.approvals.find((x) => x.approvalId === d.approvalId);
    if (!a) throw ApplicationFailure.create({ type: ErrorTypes.NotFound, message: `approval ${d.approvalId} not found in this run` });
    if (a.status === 'expired' || (a.status === 'pending' && Date.parse(a.expiresAt) <= Date.now()))
      throw ApplicationFailure.create({ type: ErrorTypes.Expired, message: `approval ${a.approvalId} expired at ${a.expiresAt}` });
    if (a.status !== 'pending')
      throw ApplicationFailure.create({ type: ErrorTypes.AlreadyDecided, message: `approval ${a.approvalId} is already ${a.status}` });
    if (d.approver.subject === this.input.principal.subject)
      throw ApplicationFailure.create({ type: ErrorTypes.Forbidden, message: 'the requester of a run cannot decide its approvals' });
    if (!d.approver.groups.includes(a.requiredGroup))
      throw ApplicationFailure.create({ type: ErrorTypes.Forbidden, message: `approval requires a member of group "${a.requiredGroup}"` });
  }

  decide(d: DecideApprovalInput): Approval {
    const a = this.approvals.find((x) => x.approvalId === d.approvalId)!;
    a.status = d.decision === 'approve' ? 'approved' : 'rejected';
    a.decidedBy = d.approver.subject;
    a.decidedAt = new Date(Date.now()).toISOString();
    if (d.comment) a.comment = d.comment;
    return a;
  }

  settleApproval(a: Approval): void {
    if (a.status === 'pending') a.status = 'expired';
    this.waitingFor = undefined;
    this.status = 'running';
    this.publish();
  }

  finish(status: Exclude<RunStatus, 'running' | 'awaiting_approval'>, result: Json, error?: { type: string; message: string }): void {
    for (const a of this.approvals) if (a.status === 'pending') a.status = 'cancelled';
    this.status = status;
    this.result = result;
    this.error = error;
    this.waitingFor = undefined;
    this.publish();
  }

  /** Mirrors the run's state into search attributes, memo and current details for the UI and the API. */
  publish(): void {
    const pending = this.approvals.filter((a) => a.status === 'pending');
    upsertSearchAttributes([
      { key: SA.status, value: this.status },
      { key: SA.pendingGroups, value: [...new Set(pending.map((a) => a.requiredGroup))] },
    ]);
    upsertMemo({ [PENDING_MEMO]: pending });
    setCurrentDetails(this.details());
  }

  private details(): string {
    const lines = [`**${this.input.agent.name}** run for **${this.input.principal.subject}**: ${this.status}`];
    if (this.waitingFor) lines.push('', `Waiting for ${this.waitingFor}.`);
    for (const a of this.approvals.filter((x) => x.status === 'pending'))
      lines.push('', `- \`${a.tool}\` args \`${JSON.stringify(a.args)}\` — decide with POST /v1/approvals/${a.approvalId}/decision`);
    if (this.error) lines.push('', `Error (${this.error.type}): ${this.error.message}`);
    return lines.join('\n');
  }
}
