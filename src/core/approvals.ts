// The approval book: every rule of human approval, once. Who may decide, quorum, separation of duties,
// escalation, expiry, edits and the digest an approval is bound to. Pure: time is passed in, nothing is
// read or written; the workflow keeps the records and calls these rules, the API asks the same rules
// what an approver may see.
import { formatDuration } from './duration.js';
import { AirlockError, ErrorCode } from './errors.js';
import type { Approval, ApprovalRequirement, DecideApprovalInput, Decision, Principal } from './types.js';

/** Who is deciding: the verified identity the API took from the bearer token. */
export type Approver = Pick<Principal, 'subject' | 'groups'>;

export function approvalIdFor(runId: string, step: number, revision = 0): string {
  return revision === 0 ? `${runId}.a${step}` : `${runId}.a${step}r${revision}`;
}

/** The run (= workflow) id an approval id belongs to, or undefined if malformed. */
export function runIdOfApproval(approvalId: string): string | undefined {
  const m = /^(run-[a-z0-9]+)\.a(\d+)(?:r\d+)?$/.exec(approvalId);
  return m ? m[1] : undefined;
}

/** The groups whose members may decide an approval now: the required group, plus the escalation group once escalated. */
export function groupsThatMayDecide(a: Pick<Approval, 'requiredGroup' | 'escalated' | 'escalateTo'>): string[] {
  return a.escalated && a.escalateTo ? [a.requiredGroup, a.escalateTo] : [a.requiredGroup];
}

/** Separation of duties: the requester, whoever the run acts as, and whoever it acts for never decide its approvals. */
export function conflictedSubjects(a: Pick<Approval, 'requestedBy' | 'onBehalfOf' | 'runsAs'>): string[] {
  return [a.requestedBy, ...(a.runsAs ? [a.runsAs] : []), ...(a.onBehalfOf ? [a.onBehalfOf] : [])];
}

/** Distinct approvers who have approved so far. */
export function approversSoFar(a: Approval): number {
  return new Set(a.votes.filter((v) => v.decision === 'approve').map((v) => v.by)).size;
}

/** A pending approval whose deadline has passed counts as expired, before its timer fires. */
export function isExpired(a: Approval, now: number): boolean {
  return a.status === 'expired' || (a.status === 'pending' && Date.parse(a.expiresAt) <= now);
}

/**
 * Refuses a decision that may not count, with the reason and the code the API maps to HTTP. Checked in
 * this order: the approval exists and is still open, the approver is not conflicted, belongs to a group
 * that may decide now, has not voted yet, saw the current digest, and edits only while approving.
 */
export function checkDecision(a: Approval | undefined, d: Pick<DecideApprovalInput, 'approvalId' | 'decision' | 'approver' | 'digest' | 'args'>, now: number): asserts a is Approval {
  if (!a) throw new AirlockError(ErrorCode.NotFound, `approval ${d.approvalId} not found in this run`);
  if (a.status === 'superseded') throw new AirlockError(ErrorCode.AlreadyDecided, `approval ${a.approvalId} was replaced by ${a.supersededBy} after an edit`);
  if (isExpired(a, now)) throw new AirlockError(ErrorCode.Expired, `approval ${a.approvalId} expired at ${a.expiresAt}`);
  if (a.status !== 'pending') throw new AirlockError(ErrorCode.AlreadyDecided, `approval ${a.approvalId} is already ${a.status}`);
  if (conflictedSubjects(a).includes(d.approver.subject)) throw new AirlockError(ErrorCode.Forbidden, 'the requester of a run, and whoever it acts for, cannot decide its approvals');
  if (!groupsThatMayDecide(a).some((g) => d.approver.groups.includes(g))) {
    const later = a.escalateTo && !a.escalated && d.approver.groups.includes(a.escalateTo) ? ` (group "${a.escalateTo}" may decide after ${a.escalatesAt})` : '';
    throw new AirlockError(ErrorCode.Forbidden, `approval requires a member of group "${a.requiredGroup}"${later}`);
  }
  if (a.votes.some((v) => v.by === d.approver.subject))
    throw new AirlockError(ErrorCode.AlreadyDecided, `${d.approver.subject} has already decided approval ${a.approvalId}; the same approver counts once`);
  if (d.digest !== undefined && d.digest !== a.digest) throw new AirlockError(ErrorCode.DigestMismatch, `approval ${a.approvalId} is bound to digest ${a.digest}, not ${d.digest}`);
  if (d.args !== undefined && d.decision !== 'approve') throw new AirlockError(ErrorCode.InvalidEdit, 'only an approval can carry edited args');
}

/** Whether this approver may cast a vote on the approval now (what the approvals list offers them). */
export function mayDecide(a: Approval, approver: Approver, now: number): boolean {
  try {
    checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver }, now);
    return true;
  } catch (err) {
    if (err instanceof AirlockError) return false;
    throw err;
  }
}

/** Records a vote that `checkDecision` accepted. Any rejection settles the approval; a quorum of distinct approvers approves it. */
export function castVote(a: Approval, d: Pick<DecideApprovalInput, 'decision' | 'approver' | 'comment'>, at: string): Approval {
  a.votes.push({ by: d.approver.subject, decision: d.decision, at, ...(d.comment ? { comment: d.comment } : {}) });
  if (d.decision === 'reject' || approversSoFar(a) >= a.quorum) {
    a.status = d.decision === 'reject' ? 'rejected' : 'approved';
    a.decidedBy = d.approver.subject;
    a.decidedAt = at;
    if (d.comment) a.comment = d.comment;
  }
  return a;
}

/** What the approval waits for next: escalation (while it has not happened) or expiry, whichever comes first. */
export function nextDeadline(a: Approval): { at: number; kind: 'escalation' | 'expiry' } {
  const escalation = a.escalatesAt && !a.escalated ? Date.parse(a.escalatesAt) : Infinity;
  const expiry = Date.parse(a.expiresAt);
  return escalation < expiry ? { at: escalation, kind: 'escalation' } : { at: expiry, kind: 'expiry' };
}

export function escalate(a: Approval): void {
  a.escalated = true;
}

/** Settles a pending approval whose deadline passed; true when it expired now. */
export function expire(a: Approval): boolean {
  if (a.status !== 'pending') return false;
  a.status = 'expired';
  return true;
}

/** Approvals still open when the run ends are cancelled. */
export function cancelPending(approvals: Approval[]): void {
  for (const a of approvals) if (a.status === 'pending') a.status = 'cancelled';
}

/** The step's current approval: edits supersede older ones. */
export function latestApproval(approvals: Approval[], step: number): Approval | undefined {
  return approvals.filter((a) => a.step === step).at(-1);
}

export interface ApprovalRequest {
  runId: string;
  step: number;
  tool: string;
  /** The decision that required approval, with the requirement that applies. */
  decision: Decision & { approval: ApprovalRequirement };
  requestedBy: string;
  /** The subject the run acts as, when it is not the requester. */
  runsAs?: string;
  onBehalfOf?: string;
  now: number;
  /** Approvals of this step so far (an edit adds a revision). */
  revision: number;
  /** An approver's edit replaces an open approval with this one. */
  edit?: { by: string; replaces: Approval };
}

/** A new pending approval, bound to the decision's digest; an edit supersedes the approval it replaces. */
export function openApproval(r: ApprovalRequest): Approval {
  const req = r.decision.approval;
  const approval: Approval = {
    approvalId: approvalIdFor(r.runId, r.step, r.revision),
    runId: r.runId,
    step: r.step,
    tool: r.tool,
    args: r.decision.args,
    digest: r.decision.digest,
    policyVersion: r.decision.policyVersion,
    policyIds: r.decision.policyIds,
    reason: effectiveReason(r.decision.reason, req),
    requiredGroup: req.group,
    quorum: req.quorum,
    // Escalation only means something before expiry.
    ...(escalatesBeforeExpiry(req) && req.escalateTo && req.escalateAfterMs ? { escalateTo: req.escalateTo, escalatesAt: new Date(r.now + req.escalateAfterMs).toISOString() } : {}),
    escalated: false,
    requestedBy: r.requestedBy,
    ...(r.runsAs && r.runsAs !== r.requestedBy ? { runsAs: r.runsAs } : {}),
    ...(r.onBehalfOf ? { onBehalfOf: r.onBehalfOf } : {}),
    requestedAt: new Date(r.now).toISOString(),
    expiresAt: new Date(r.now + req.expiresAfterMs).toISOString(),
    status: 'pending',
    votes: [],
    ...(r.edit ? { editedBy: r.edit.by, replaces: r.edit.replaces.approvalId } : {}),
  };
  if (r.edit) {
    r.edit.replaces.status = 'superseded';
    r.edit.replaces.supersededBy = approval.approvalId;
  }
  return approval;
}

/** Whether the requirement escalates before it expires (escalation only means something then). */
const escalatesBeforeExpiry = (req: ApprovalRequirement) => Boolean(req.escalateTo && req.escalateAfterMs && req.escalateAfterMs < req.expiresAfterMs);

/**
 * The policy's reason, told with the requirement that applies: the engine words it from the policy's own
 * annotations (`, expiring after 72h`, ` (escalating to G after 24h)`), and the agent's window may be
 * shorter (`approvals.expiresAfter`), which also drops an escalation that would come after expiry.
 */
export function effectiveReason(reason: string, req: ApprovalRequirement): string {
  return reason
    .replace(/, expiring after \d+(?:ms|s|m|h|d)\b/, `, expiring after ${formatDuration(req.expiresAfterMs)}`)
    .replace(/ \(escalating to \S+ after \d+(?:ms|s|m|h|d)\)/, (clause) => (escalatesBeforeExpiry(req) ? clause : ''));
}

/**
 * The requirement of an edited call: its own when policy requires approval again; when policy allows the
 * edited call outright, one approval (the editor's) from the same group within what is left of the original window.
 */
export function editRequirement(edited: Decision, replaced: Approval, now: number): ApprovalRequirement {
  return edited.approval ?? { group: replaced.requiredGroup, quorum: 1, expiresAfterMs: Date.parse(replaced.expiresAt) - now };
}

/** What approval a decision needs given the autonomy phase: a policy's requirement is capped by the agent's window; the gated phase sends every write to the agent's group. */
export function approvalFor(
  policy: { outcome: 'allow' | 'deny' | 'require_approval'; approval?: { group: string; quorum: number; expiresAfterMs?: number; escalateTo?: string; escalateAfterMs?: number } },
  ctx: { write: boolean; phase: 'read-only' | 'gated' | 'autonomous'; defaults: { group: string; expiresMs: number } },
): ApprovalRequirement | undefined {
  if (policy.outcome === 'require_approval' && policy.approval) {
    const a = policy.approval;
    return {
      group: a.group,
      quorum: a.quorum,
      // Both are upper bounds: an agent's config may shorten a policy's window, never extend it.
      expiresAfterMs: Math.min(a.expiresAfterMs ?? Infinity, ctx.defaults.expiresMs),
      ...(a.escalateTo && a.escalateAfterMs ? { escalateTo: a.escalateTo, escalateAfterMs: a.escalateAfterMs } : {}),
    };
  }
  if (policy.outcome === 'allow' && ctx.write && ctx.phase === 'gated') return { group: ctx.defaults.group, quorum: 1, expiresAfterMs: ctx.defaults.expiresMs };
  return undefined;
}

/** One line per pending approval saying who it waits for and until when; undefined when nothing is pending. */
export function waitingFor(approvals: Approval[]): string | undefined {
  const pending = approvals.filter((a) => a.status === 'pending');
  if (!pending.length) return undefined;
  return pending
    .map((a) => {
      const who = groupsThatMayDecide(a)
        .map((g) => `"${g}"`)
        .join(' or ');
      return `approval by ${a.quorum > 1 ? `${a.quorum} distinct members (${approversSoFar(a)} so far)` : 'a member'} of ${who} for ${a.tool} (${a.approvalId}) until ${a.expiresAt}`;
    })
    .join('; ');
}
