// Who may see what: a run, an approval, a question the agent asked. One rule each, used by the REST reads, the
// approval lists and the event stream (GET /v1/events), so what a stream shows is exactly what the caller could read.
import { conflictedSubjects, groupsThatMayDecide } from './approvals.js';
import { mayAnswer } from './inputs.js';
import type { Approval, PendingInput, Principal, Vote } from './types.js';

export type Role = 'requester' | 'approver' | 'operator' | 'admin';

export function hasRole(p: Pick<Principal, 'roles'>, ...roles: Role[]): boolean {
  return roles.some((r) => p.roles.includes(r));
}

/** Operators and admins see every run, approval and question. */
export const seesEverything = (p: Pick<Principal, 'roles'>): boolean => hasRole(p, 'operator', 'admin');

/** Who may read any run: operators, admins and approvers (who must see what they decide). */
export const mayReadAnyRun = (p: Pick<Principal, 'roles'>): boolean => hasRole(p, 'operator', 'admin', 'approver');

/** Who may read a run: its requester, and whoever may read any run. */
export function mayReadRun(p: Pick<Principal, 'subject' | 'roles'>, run: { requester: string }): boolean {
  return run.requester === p.subject || mayReadAnyRun(p);
}

/** What the approval rule needs to know of an approval. */
export type ApprovalParties = Pick<Approval, 'requiredGroup' | 'escalateTo' | 'escalated' | 'requestedBy' | 'runsAs' | 'onBehalfOf'> & { votes: Array<Pick<Vote, 'by'>> };

/**
 * Whom an approval is shown to: operators and admins see all; approvers those of their groups (and of the
 * escalation group once escalated) and those they voted on; never the approvals of a run they requested or it acts for.
 */
export function maySeeApproval(a: ApprovalParties, p: Pick<Principal, 'subject' | 'groups' | 'roles'>): boolean {
  if (seesEverything(p)) return true;
  if (!hasRole(p, 'approver') || conflictedSubjects(a).includes(p.subject)) return false;
  return groupsThatMayDecide(a).some((g) => p.groups.includes(g)) || a.votes.some((v) => v.by === p.subject);
}

/** What the question rule needs to know of a question. */
export type InputParties = Pick<PendingInput, 'requester' | 'onBehalfOf' | 'groups'>;

/** Who is shown a question the agent asked: whoever may answer it, and whoever may read its run. */
export function maySeeInput(i: InputParties, p: Pick<Principal, 'subject' | 'groups' | 'roles'>): boolean {
  return mayAnswer(i, p) || mayReadRun(p, i);
}

/** What an event is about, for deciding who may see it. */
export type Audience = { kind: 'run'; run: { requester: string } } | { kind: 'approval'; approval: ApprovalParties } | { kind: 'input'; input: InputParties };

/** The one rule of the event stream: an event is shown to whoever may read what it is about. */
export function maySee(p: Principal, a: Audience): boolean {
  if (a.kind === 'run') return mayReadRun(p, a.run);
  if (a.kind === 'approval') return maySeeApproval(a.approval, p);
  return maySeeInput(a.input, p);
}
