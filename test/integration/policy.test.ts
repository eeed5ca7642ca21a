// The control layer end to end: Cedar policy decides every call of a real run, approvals carry the
// policy's requirement (quorum, escalation), approvers may edit, and an engine failure fails closed.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import type { Approval, RunView } from '../../src/core/types.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

const refund = (customerId: string, invoiceId: string, amount: number) => ({ customerId, invoiceId, amount, message: `refund ${amount}` });
const refundStep = (v: RunView) => v.steps.find((x) => x.tool === 'billing.issue_refund')!;

describe('Cedar policy on real runs (demo policies, autonomous phase)', () => {
  let s: TestStack;
  const policyDir = mkdtempSync(join(tmpdir(), 'airlock-policies-'));
  before(async () => {
    cpSync(join(ROOT, 'examples', 'policies'), policyDir, { recursive: true });
    s = await startTestStack({ overrides: (cfg) => void (cfg.policy.dir = policyDir) });
  });
  after(async () => {
    await s?.cleanup();
    rmSync(policyDir, { recursive: true, force: true });
  });
  const decide = async (user: string, a: Approval | string, body: Record<string, unknown> = { decision: 'approve' }) =>
    s.call('POST', `/v1/approvals/${typeof a === 'string' ? a : a.approvalId}/decision`, { token: await s.token(user), body });
  const waiting = (runId: string) => s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
  const cancel = async (runId: string) => assert.equal((await s.call('POST', `/v1/runs/${runId}/cancel`, { token: await s.token('alice') })).status, 202);

  test('500 USD is allowed without approval by refund-small', async () => {
    const runId = await s.startRun(refund('C-1001', 'INV-2005', 500));
    const done = await s.waitForRun(runId, (v) => v.status === 'completed');
    const step = refundStep(done);
    assert.deepEqual([step.decision!.outcome, step.decision!.policyIds], ['allow', ['refund-small']]);
    assert.match(step.decision!.policyVersion, /^[0-9a-f]{16}$/);
    assert.deepEqual(done.approvals, []);
    assert.deepEqual(
      s.refunds(runId).map((r) => [r.invoice_id, r.amount_cents]),
      [['INV-2005', 50_000]],
    );
  });

  test('500.01 and 5000 need one finance approver; 5000.01 and 20000 need two; escalation to finance-leads', async () => {
    for (const [inv, cust, amount, quorum, policy] of [
      ['INV-2005', 'C-1001', 500.01, 1, 'refund-finance-approval'],
      ['INV-2004', 'C-1004', 5000, 1, 'refund-finance-approval'],
      ['INV-2004', 'C-1004', 5000.01, 2, 'refund-dual-finance-approval'],
      ['INV-2006', 'C-1001', 20000, 2, 'refund-dual-finance-approval'],
    ] as const) {
      const runId = await s.startRun(refund(cust, inv, amount));
      const v = await waiting(runId);
      const a = v.pendingApprovals[0]!;
      assert.deepEqual([a.args.amount, a.requiredGroup, a.quorum, a.policyIds], [amount, 'finance', quorum, [policy]], `amount ${amount}`);
      assert.equal(a.escalateTo, 'finance-leads');
      assert.equal(Date.parse(a.escalatesAt!) - Date.parse(a.requestedAt), 24 * 3_600_000);
      assert.equal(Date.parse(a.expiresAt) - Date.parse(a.requestedAt), 72 * 3_600_000);
      assert.match(a.digest, /^[0-9a-f]{64}$/);
      assert.equal(refundStep(v).decision!.outcome, 'require_approval');
      await cancel(runId);
    }
  });

  test('20000.01 is denied by refund-over-limit and never reaches billing', async () => {
    const runId = await s.startRun(refund('C-1001', 'INV-2006', 20000.01));
    const done = await s.waitForRun(runId, (v) => v.status === 'failed');
    assert.equal(done.error!.type, 'PolicyDenied');
    // INV-2006 is 20000 USD: the amount is also more than the invoice can refund.
    assert.deepEqual(refundStep(done).decision!.policyIds, ['refund-over-limit', 'refund-within-refundable']);
    assert.equal(refundStep(done).status, 'denied');
    assert.deepEqual(s.refunds(runId), []);
  });

  test('quorum of two: distinct finance approvers; the same one twice counts once; outsiders refused', async () => {
    const runId = await s.startRun(refund('C-1004', 'INV-2004', 5000.01));
    const a = (await waiting(runId)).pendingApprovals[0]!;
    assert.equal((await decide('alice', a)).status, 403, 'requester (and not an approver)');
    assert.equal((await decide('dave', a)).status, 403, 'approver outside finance');
    assert.equal((await decide('erin', a)).status, 403, 'finance-leads only after escalation');
    const first = await decide('bob', a, { decision: 'approve', digest: a.digest });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.approval.status, 'pending', 'one of two');
    const again = await decide('bob', a);
    assert.equal(again.status, 409, 'the same approver twice');
    assert.match(again.body.error.message, /counts once/);
    const list = await s.call('GET', '/v1/approvals?status=pending', { token: await s.token('bob') });
    assert.ok(!list.body.approvals.some((x: Approval) => x.approvalId === a.approvalId), 'bob no longer sees what he already voted on');
    const mid = await s.waitForRun(runId, () => true);
    assert.equal(mid.status, 'awaiting_approval');
    assert.match(mid.waitingFor!, /2 distinct members \(1 so far\)/);
    const second = await decide('carol', a);
    assert.equal(second.status, 200);
    assert.equal(second.body.approval.status, 'approved');
    assert.deepEqual(
      second.body.approval.votes.map((x: { by: string }) => x.by),
      ['bob', 'carol'],
    );
    await s.waitForRun(runId, (v) => v.status === 'completed');
    assert.deepEqual(
      s.refunds(runId).map((r) => r.invoice_id),
      ['INV-2004'],
    );
    assert.equal((await decide('carol', a)).status, 409, 'replaying a decision');
  });

  test('approvals are bound to their digest: a stale or foreign digest is refused', async () => {
    const r1 = await s.startRun(refund('C-1003', 'INV-2003', 900));
    const r2 = await s.startRun(refund('C-1003', 'INV-2003', 901));
    const a1 = (await waiting(r1)).pendingApprovals[0]!;
    const a2 = (await waiting(r2)).pendingApprovals[0]!;
    assert.notEqual(a1.digest, a2.digest);
    const foreign = await decide('bob', a1, { decision: 'approve', digest: a2.digest });
    assert.equal(foreign.status, 409);
    assert.equal(foreign.body.error.code, 'digest_mismatch');
    assert.equal((await decide('bob', `${r1}.a9`)).status, 404, 'an approval id the run does not have');
    await cancel(r1);
    await cancel(r2);
  });

  test('edit: invalid edits get 422 and change nothing; a smaller refund policy allows runs at once', async () => {
    const runId = await s.startRun(refund('C-1003', 'INV-2003', 1250));
    const a = (await waiting(runId)).pendingApprovals[0]!;
    const over = await decide('bob', a, { decision: 'approve', args: { ...a.args, amount: 25000 } });
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.match(over.body.error.message, /refund-over-limit/);
    const bad = await decide('bob', a, { decision: 'approve', args: { ...a.args, amount: 'lots' } });
    assert.equal(bad.status, 422);
    assert.match(bad.body.error.message, /input schema/);
    assert.equal((await decide('bob', a, { decision: 'reject', args: a.args })).status, 422, 'edits only come with an approval');
    // An edit may not move the refund to another customer's invoice (context.edit holds the args as proposed).
    const moved = await decide('bob', a, { decision: 'approve', args: { ...a.args, invoiceId: 'INV-2001', amount: 400 } });
    assert.equal(moved.status, 422, JSON.stringify(moved.body));
    assert.match(moved.body.error.message, /refund-edit-same-invoice/);
    const still = await s.waitForRun(runId, () => true);
    assert.deepEqual([still.status, still.approvals.length, still.pendingApprovals[0]!.approvalId], ['awaiting_approval', 1, a.approvalId]);

    const ok = await decide('bob', a, { decision: 'approve', args: { ...a.args, amount: 400 }, comment: 'partial refund' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.approval.status, 'approved');
    assert.equal(ok.body.approval.editedBy, 'bob');
    assert.equal(ok.body.approval.replaces, a.approvalId);
    const done = await s.waitForRun(runId, (v) => v.status === 'completed');
    assert.equal(done.approvals[0]!.status, 'superseded');
    assert.equal(refundStep(done).args.amount, 400);
    assert.deepEqual(refundStep(done).decision!.policyIds, ['refund-small']);
    assert.deepEqual(
      s.refunds(runId).map((r) => [r.invoice_id, r.amount_cents]),
      [['INV-2003', 40_000]],
    );
    assert.equal((await decide('carol', a)).status, 409, 'the superseded approval cannot be decided');
  });

  test('edit: a larger refund is requested afresh under the stricter rule, with the editor counted once', async () => {
    const runId = await s.startRun(refund('C-1003', 'INV-2003', 1000));
    const a = (await waiting(runId)).pendingApprovals[0]!;
    const res = await decide('bob', a, { decision: 'approve', args: { ...a.args, amount: 6000 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const fresh = res.body.approval as Approval;
    assert.deepEqual([fresh.status, fresh.quorum, fresh.policyIds, fresh.votes.length], ['pending', 2, ['refund-dual-finance-approval'], 1]);
    assert.notEqual(fresh.digest, a.digest);
    assert.equal((await decide('bob', fresh)).status, 409, 'the editor already counts');
    assert.equal((await decide('carol', fresh)).status, 200);
    const done = await s.waitForRun(runId, (v) => v.status === 'completed');
    assert.equal(refundStep(done).args.amount, 6000);
  });

  test('a service account acting for a user: identity recorded, and that user cannot approve', async () => {
    const token = await s.token('helpdesk-bot');
    const res = await s.call('POST', '/v1/runs', { token, body: { agent: 'refund-assistant', input: refund('C-1004', 'INV-2004', 800), onBehalfOf: 'bob' } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const v = await waiting(res.body.runId);
    assert.deepEqual(v.identity, { kind: 'service', subject: 'helpdesk-bot', groups: ['support'], onBehalfOf: 'bob' });
    const a = v.pendingApprovals[0]!;
    assert.equal(a.onBehalfOf, 'bob');
    assert.equal((await decide('bob', a)).status, 403, 'the user a run acts for cannot approve it');
    assert.equal((await decide('carol', a)).status, 200);
    await s.waitForRun(res.body.runId, (x) => x.status === 'completed');
    const asUser = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'refund-assistant', input: refund('C-1002', 'INV-2002', 1), onBehalfOf: 'dave' } });
    assert.equal(asUser.status, 403, 'users cannot claim to act for someone else');
  });

  test('GET /v1/policy shows the version and policy ids to operators only', async () => {
    const res = await s.call('GET', '/v1/policy', { token: await s.token('olivia') });
    assert.equal(res.status, 200);
    assert.ok(res.body.policies.includes('refund-over-limit'));
    const run = await s.waitForRun(await s.startRun(refund('C-1001', 'INV-2005', 1)), (v) => v.status === 'completed');
    assert.equal(run.steps[0]!.decision!.policyVersion, res.body.version, 'runs record the version they were decided under');
    assert.equal((await s.call('GET', '/v1/policy', { token: await s.token('alice') })).status, 403);
  });

  test('fail closed: a broken policy file denies every call until it is fixed', async () => {
    const broken = join(policyDir, 'zz-broken.cedar');
    writeFileSync(broken, 'permit (principal, action, resource) when { context.nope.');
    try {
      const done = await s.waitForRun(await s.startRun(refund('C-1001', 'INV-2005', 10)), (v) => v.status === 'failed');
      assert.equal(done.steps.length, 1);
      assert.equal(done.steps[0]!.status, 'denied');
      assert.match(done.steps[0]!.decision!.reason, /policy engine unavailable: .*zz-broken\.cedar:1/);
      const shown = await s.call('GET', '/v1/policy', { token: await s.token('adam') });
      assert.equal(shown.status, 503);
      assert.match(shown.body.error, /zz-broken\.cedar:1/);
    } finally {
      rmSync(broken);
    }
    assert.equal((await s.call('GET', '/v1/policy', { token: await s.token('olivia') })).status, 200);
    const ok = await s.waitForRun(await s.startRun(refund('C-1001', 'INV-2005', 10)), (v) => v.status === 'completed');
    assert.equal(refundStep(ok).decision!.outcome, 'allow');
  });
});

describe('autonomy phases: the same agent, rolled out step by step', () => {
  test('read-only: the first write is denied by the phase, nothing is written', async () => {
    const s = await startTestStack({ env: { AIRLOCK_REFUND_AUTONOMY: 'read-only' } });
    try {
      const runId = await s.startRun(refund('C-1001', 'INV-2005', 10));
      const done = await s.waitForRun(runId, (v) => v.status === 'failed');
      assert.deepEqual(
        done.steps.map((x) => x.status),
        ['completed', 'completed', 'denied'],
      );
      assert.match(done.steps[2]!.decision!.reason, /read-only phase: ticketing\.create_ticket changes state/);
      assert.deepEqual(s.refunds(runId), []);
    } finally {
      await s.cleanup();
    }
  });

  test('gated: every write waits for approval, even those policy would allow outright', async () => {
    const s = await startTestStack({ env: { AIRLOCK_REFUND_AUTONOMY: 'gated' } });
    try {
      const runId = await s.startRun(refund('C-1001', 'INV-2005', 10));
      const groups: string[] = [];
      for (;;) {
        const v = await s.waitForRun(runId, (x) => x.status !== 'running');
        if (v.status !== 'awaiting_approval') {
          assert.equal(v.status, 'completed', JSON.stringify(v.error));
          break;
        }
        const a = v.pendingApprovals[0]!;
        groups.push(`${a.tool}:${a.requiredGroup}`);
        const user = a.requiredGroup === 'finance' ? 'bob' : 'dave';
        assert.equal((await s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: await s.token(user), body: { decision: 'approve' } })).status, 200);
        await s.waitForRun(runId, (x) => !x.pendingApprovals.some((p) => p.approvalId === a.approvalId));
      }
      // 10 USD is allowed outright by policy, so the phase's own group gates it like every other write.
      assert.deepEqual(groups, ['ticketing.create_ticket:support-leads', 'billing.issue_refund:support-leads', 'crm.add_note:support-leads', 'ticketing.update_ticket:support-leads']);
      assert.equal(s.refunds(runId).length, 1);
    } finally {
      await s.cleanup();
    }
  });
});
