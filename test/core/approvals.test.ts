// The approval book's rules, without Temporal: each rule of who may decide, quorum, escalation, expiry and edits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as book from '../../src/core/approvals.js';
import { AirlockError, ErrorCode } from '../../src/core/errors.js';
import type { Approval, ApprovalRequirement, Decision } from '../../src/core/types.js';

const T0 = Date.parse('2026-01-05T10:00:00.000Z');
const H = 3_600_000;

function decision(approval: ApprovalRequirement, args = { amount: 600 }): Decision & { approval: ApprovalRequirement } {
  return {
    outcome: 'require_approval',
    reason: 'refund over 500',
    policyIds: ['refund-approval'],
    policyVersion: 'v1',
    write: true,
    idempotent: false,
    args,
    digest: `d-${JSON.stringify(args)}`,
    approval,
  };
}

function open(req: Partial<ApprovalRequirement> = {}, extra: Partial<book.ApprovalRequest> = {}): Approval {
  return book.openApproval({
    runId: 'run-abc',
    step: 2,
    tool: 'billing.issue_refund',
    decision: decision({ group: 'finance', quorum: 1, expiresAfterMs: 72 * H, ...req }),
    requestedBy: 'alice',
    now: T0,
    revision: 0,
    ...extra,
  });
}

const bob = { subject: 'bob', groups: ['finance'] };
const carol = { subject: 'carol', groups: ['finance'] };
const dave = { subject: 'dave', groups: ['finance-leads'] };

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AirlockError, `expected an AirlockError, got ${String(err)}`);
    return { code: err.code, message: err.message };
  }
  assert.fail('expected a refusal');
}

describe('approval book', () => {
  test('ids: revision 0 is the step id, edits add rN; the run id is recovered from either', () => {
    assert.equal(book.approvalIdFor('run-abc', 2), 'run-abc.a2');
    assert.equal(book.approvalIdFor('run-abc', 2, 1), 'run-abc.a2r1');
    assert.equal(book.runIdOfApproval('run-abc.a2r1'), 'run-abc');
    assert.equal(book.runIdOfApproval('run-abc.a2'), 'run-abc');
    for (const bad of ['run-abc', 'run-ABC.a1', 'x.a1', 'run-abc.a1r', 'run-abc.a']) assert.equal(book.runIdOfApproval(bad), undefined, bad);
  });

  test('a new approval is pending, bound to the decision digest, with expiry and escalation from the requirement', () => {
    const a = open({ escalateTo: 'finance-leads', escalateAfterMs: 24 * H });
    assert.equal(a.status, 'pending');
    assert.equal(a.digest, decision({ group: 'finance', quorum: 1, expiresAfterMs: 1 }).digest);
    assert.equal(a.expiresAt, new Date(T0 + 72 * H).toISOString());
    assert.equal(a.escalatesAt, new Date(T0 + 24 * H).toISOString());
    assert.equal(a.escalated, false);
  });

  test('escalation at or after expiry is dropped', () => {
    const a = open({ expiresAfterMs: 10 * H, escalateTo: 'finance-leads', escalateAfterMs: 10 * H });
    assert.equal(a.escalateTo, undefined);
    assert.deepEqual(book.nextDeadline(a), { at: T0 + 10 * H, kind: 'expiry' });
  });

  test('separation of duties: the requester, the subject the run acts as, and whoever it acts for never decide', () => {
    const a = open({}, { onBehalfOf: 'erin', runsAs: 'svc-flow' });
    for (const subject of ['alice', 'erin', 'svc-flow']) {
      const r = refusal(() => book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: { subject, groups: ['finance'] } }, T0));
      assert.equal(r.code, ErrorCode.Forbidden, subject);
      assert.equal(book.mayDecide(a, { subject, groups: ['finance'] }, T0), false);
    }
    assert.equal(book.mayDecide(a, bob, T0), true);
  });

  test('only members of the required group decide; the escalation group only after escalation, and is told when', () => {
    const a = open({ escalateTo: 'finance-leads', escalateAfterMs: 24 * H });
    const r = refusal(() => book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: dave }, T0));
    assert.equal(r.code, ErrorCode.Forbidden);
    assert.match(r.message, /group "finance-leads" may decide after 2026-01-06T10:00:00.000Z/);
    assert.deepEqual(book.groupsThatMayDecide(a), ['finance']);
    assert.deepEqual(book.nextDeadline(a), { at: T0 + 24 * H, kind: 'escalation' });
    book.escalate(a);
    assert.deepEqual(book.groupsThatMayDecide(a), ['finance', 'finance-leads']);
    assert.deepEqual(book.nextDeadline(a), { at: T0 + 72 * H, kind: 'expiry' });
    assert.equal(book.mayDecide(a, dave, T0 + 25 * H), true);
    assert.equal(book.mayDecide(a, { subject: 'zed', groups: ['support'] }, T0 + 25 * H), false);
  });

  test('quorum counts distinct approvers; the same approver counts once', () => {
    const a = open({ quorum: 2 });
    book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: bob }, T0);
    book.castVote(a, { decision: 'approve', approver: bob }, new Date(T0).toISOString());
    assert.equal(a.status, 'pending');
    assert.equal(book.approversSoFar(a), 1);
    assert.match(book.waitingFor([a])!, /2 distinct members \(1 so far\) of "finance"/);
    assert.equal(refusal(() => book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: bob }, T0)).code, ErrorCode.AlreadyDecided);
    assert.equal(book.mayDecide(a, bob, T0), false, 'a voter is not offered the approval again');
    book.castVote(a, { decision: 'approve', approver: carol, comment: 'ok' }, new Date(T0 + 1000).toISOString());
    assert.equal(a.status, 'approved');
    assert.equal(a.decidedBy, 'carol');
    assert.equal(a.comment, 'ok');
    assert.equal(book.waitingFor([a]), undefined);
  });

  test('any rejection settles the approval, even below quorum', () => {
    const a = open({ quorum: 3 });
    book.castVote(a, { decision: 'approve', approver: bob }, new Date(T0).toISOString());
    book.castVote(a, { decision: 'reject', approver: carol }, new Date(T0).toISOString());
    assert.equal(a.status, 'rejected');
    assert.equal(a.decidedBy, 'carol');
    assert.equal(refusal(() => book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: dave }, T0)).code, ErrorCode.AlreadyDecided);
  });

  test('expiry: a pending approval past its deadline is refused as expired before its timer fires; expire settles it once', () => {
    const a = open({ expiresAfterMs: 30_000 });
    assert.equal(book.isExpired(a, T0 + 29_999), false);
    assert.equal(book.isExpired(a, T0 + 30_000), true);
    assert.equal(refusal(() => book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: bob }, T0 + 30_000)).code, ErrorCode.Expired);
    assert.equal(book.expire(a), true);
    assert.equal(a.status, 'expired');
    assert.equal(book.expire(a), false);
  });

  test('digest: a decision must match the digest the approval is bound to', () => {
    const a = open();
    const r = refusal(() => book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: bob, digest: 'stale' }, T0));
    assert.equal(r.code, ErrorCode.DigestMismatch);
    book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: bob, digest: a.digest }, T0);
  });

  test('edits: only an approval carries edited args; an edit supersedes the approval with a new revision', () => {
    const a = open();
    assert.equal(refusal(() => book.checkDecision(a, { approvalId: a.approvalId, decision: 'reject', approver: bob, args: { amount: 1 } }, T0)).code, ErrorCode.InvalidEdit);
    const edited = { ...decision({ group: 'finance', quorum: 1, expiresAfterMs: 1 }, { amount: 400 }), outcome: 'allow' as const, approval: undefined };
    const req = book.editRequirement(edited, a, T0 + H);
    assert.deepEqual(req, { group: 'finance', quorum: 1, expiresAfterMs: 71 * H }, 'an allowed edit keeps the group and what is left of the window');
    const next = book.openApproval({
      runId: 'run-abc',
      step: 2,
      tool: a.tool,
      decision: { ...edited, approval: req },
      requestedBy: 'alice',
      now: T0 + H,
      revision: 1,
      edit: { by: 'bob', replaces: a },
    });
    assert.equal(next.approvalId, 'run-abc.a2r1');
    assert.equal(next.replaces, a.approvalId);
    assert.equal(next.editedBy, 'bob');
    assert.equal(a.status, 'superseded');
    assert.equal(a.supersededBy, next.approvalId);
    assert.equal(book.latestApproval([a, next], 2), next);
    const r = refusal(() => book.checkDecision(a, { approvalId: a.approvalId, decision: 'approve', approver: carol }, T0 + H));
    assert.equal(r.code, ErrorCode.AlreadyDecided);
    assert.match(r.message, /replaced by run-abc\.a2r1/);
    const stricter = { ...edited, outcome: 'require_approval' as const, approval: { group: 'finance-leads', quorum: 2, expiresAfterMs: H } };
    assert.deepEqual(book.editRequirement(stricter, a, T0), stricter.approval, 'an edit that still needs approval takes its own requirement');
  });

  test('unknown approval ids are not found', () => {
    assert.equal(refusal(() => book.checkDecision(undefined, { approvalId: 'run-abc.a9', decision: 'approve', approver: bob }, T0)).code, ErrorCode.NotFound);
  });

  test('cancelPending cancels only open approvals', () => {
    const a = open();
    const b = open({}, { step: 3 });
    book.castVote(b, { decision: 'approve', approver: bob }, new Date(T0).toISOString());
    book.cancelPending([a, b]);
    assert.equal(a.status, 'cancelled');
    assert.equal(b.status, 'approved');
  });

  test('approvalFor: a policy requirement is capped by the agent window; the gated phase sends writes to the agent group', () => {
    const ctx = { write: true, phase: 'autonomous' as const, defaults: { group: 'approvers', expiresMs: 10 * H } };
    assert.deepEqual(book.approvalFor({ outcome: 'require_approval', approval: { group: 'finance', quorum: 2, expiresAfterMs: 72 * H } }, ctx), {
      group: 'finance',
      quorum: 2,
      expiresAfterMs: 10 * H,
    });
    assert.deepEqual(book.approvalFor({ outcome: 'require_approval', approval: { group: 'finance', quorum: 1, expiresAfterMs: H, escalateTo: 'leads', escalateAfterMs: 1000 } }, ctx), {
      group: 'finance',
      quorum: 1,
      expiresAfterMs: H,
      escalateTo: 'leads',
      escalateAfterMs: 1000,
    });
    assert.equal(book.approvalFor({ outcome: 'allow' }, ctx), undefined);
    assert.deepEqual(book.approvalFor({ outcome: 'allow' }, { ...ctx, phase: 'gated' }), { group: 'approvers', quorum: 1, expiresAfterMs: 10 * H });
    assert.equal(book.approvalFor({ outcome: 'allow' }, { ...ctx, phase: 'gated', write: false }), undefined, 'reads are never gated');
    assert.equal(book.approvalFor({ outcome: 'deny' }, { ...ctx, phase: 'gated' }), undefined);
  });
});
