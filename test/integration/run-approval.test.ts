// The first slice end to end: REST → Temporal workflow (LangGraph) → MCP over stdio and HTTP → approval → done.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_INPUT, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

describe('refund-assistant run with approval', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack();
  });
  after(async () => {
    await s?.cleanup();
  });

  test('happy path: runs, waits for finance approval, approved, completes with exactly one refund', async () => {
    const runId = await s.startRun();
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    assert.equal(waiting.pendingApprovals.length, 1);
    const pending = waiting.pendingApprovals[0]!;
    assert.equal(pending.tool, 'billing.issue_refund');
    assert.equal(pending.requiredGroup, 'finance');
    assert.equal(pending.args.amount, 1250);
    assert.equal(pending.args.invoiceId, 'INV-2001');
    assert.equal(pending.args.idempotencyKey, `${runId}/step-3`, 'the control layer sets the idempotency key');
    assert.equal(Date.parse(pending.expiresAt) - Date.parse(pending.requestedAt), 72 * 3600_000, 'default expiry is 72h');
    assert.deepEqual(
      waiting.steps.map((x) => [x.tool, x.status]),
      [
        ['crm.get_account', 'completed'],
        ['billing.get_invoice', 'completed'],
        ['ticketing.create_ticket', 'completed'],
        ['billing.issue_refund', 'awaiting_approval'],
      ],
    );
    assert.deepEqual(s.refunds(runId), [], 'nothing refunded before approval');

    // The approver sees it in their list (visibility is eventually consistent: poll).
    const bob = await s.token('bob');
    const list = await waitFor(
      () => s.call('GET', '/v1/approvals?status=pending', { token: bob }),
      (r) => r.body?.approvals?.some((a: { approvalId: string }) => a.approvalId === pending.approvalId),
      15_000,
      'approval listed for bob',
    );
    assert.equal(list.status, 200);
    // The requester does not see approvals (no approver role) and cannot list them.
    assert.equal((await s.call('GET', '/v1/approvals', { token: await s.token('alice') })).status, 403);

    const decided = await s.call('POST', `/v1/approvals/${pending.approvalId}/decision`, { token: bob, body: { decision: 'approve', comment: 'verified double charge' } });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(decided.body.approval.status, 'approved');
    assert.equal(decided.body.approval.decidedBy, 'bob');

    const done = await s.waitForRun(runId, (v) => v.status === 'completed');
    assert.deepEqual(
      done.steps.map((x) => x.tool),
      ['crm.get_account', 'billing.get_invoice', 'ticketing.create_ticket', 'billing.issue_refund', 'crm.add_note', 'ticketing.update_ticket'],
    );
    assert.ok(
      done.steps.every((x) => x.status === 'completed' && !x.result?.isError),
      JSON.stringify(done.steps),
    );
    assert.equal(done.pendingApprovals.length, 0);
    assert.equal(s.refunds(runId).length, 1, 'exactly one refund');

    // A second decision on the same approval is a conflict.
    const again = await s.call('POST', `/v1/approvals/${pending.approvalId}/decision`, { token: await s.token('carol'), body: { decision: 'approve' } });
    assert.equal(again.status, 409, JSON.stringify(again.body));
  });

  test('reject: the run ends rejected and the refund never runs', async () => {
    const runId = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 600 });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const approvalId = waiting.pendingApprovals[0]!.approvalId;
    const res = await s.call('POST', `/v1/approvals/${approvalId}/decision`, { token: await s.token('carol'), body: { decision: 'reject', comment: 'not eligible' } });
    assert.equal(res.status, 200);
    const done = await s.waitForRun(runId, (v) => v.status === 'rejected');
    assert.equal(done.steps.find((x) => x.tool === 'billing.issue_refund')!.status, 'rejected');
    // The agent's onFailure step closed the ticket it opened, saying who rejected the refund.
    assert.deepEqual([done.steps.at(-1)!.tool, done.steps.at(-1)!.node, done.steps.at(-1)!.status], ['ticketing.update_ticket', 'onFailure', 'completed']);
    assert.match(String(done.steps.at(-1)!.args.comment), /rejected by carol/);
    assert.equal(done.approvals[0]!.decidedBy, 'carol');
    assert.deepEqual(s.refunds(runId), [], 'no refund after a rejection');
  });

  test('cancel: a paused run is cancelled by its requester and nothing is refunded', async () => {
    // INV-2001 was refunded in full above: nothing is left to propose on it.
    const runId = await s.startRun({ ...DEMO_INPUT, customerId: 'C-1004', invoiceId: 'INV-2010' });
    await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const res = await s.call('POST', `/v1/runs/${runId}/cancel`, { token: await s.token('alice') });
    assert.equal(res.status, 202);
    const done = await s.waitForRun(runId, (v) => v.status === 'cancelled');
    assert.equal(done.approvals[0]!.status, 'cancelled');
    assert.equal(done.cancelledBy, 'alice', 'the run names who cancelled it');
    // Temporal (and its UI) shows the workflow cancelled, not completed.
    const described = await waitFor(
      () => s.client.workflow.getHandle(runId).describe(),
      (d) => d.status.name !== 'RUNNING',
      60_000,
      'the workflow closes',
    );
    assert.equal(described.status.name, 'CANCELLED');
    const audit = await s.call('GET', `/v1/runs/${runId}/audit`, { token: await s.token('olivia') });
    const end = audit.body.records.at(-1);
    assert.deepEqual([end.type, end.principal, end.data.cancelledBy], ['run.cancelled', 'alice', 'alice']);
    assert.equal((await s.call('POST', `/v1/runs/${runId}/cancel`, { token: await s.token('alice') })).status, 409, 'a second cancel');
    const late = await s.call('POST', `/v1/approvals/${done.approvals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(late.status, 409);
    assert.deepEqual(s.refunds(runId), []);
  });

  test('health, readiness and the OpenAPI document', async () => {
    assert.equal((await s.call('GET', '/healthz')).status, 200);
    const ready = await s.call('GET', '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.deepEqual(ready.body, { temporal: true, worker: true });
    const doc = await s.call('GET', '/openapi.json');
    assert.equal(doc.body.openapi, '3.1.0');
    assert.ok(doc.body.paths['/v1/approvals/{approvalId}/decision'].post.requestBody);
  });

  test('bad requests get 4xx with a reason and start nothing', async () => {
    const alice = await s.token('alice');
    const cases: Array<[unknown, number, string]> = [
      ['{not json', 400, 'invalid_json'],
      [{ agent: 'refund-assistant' }, 400, 'invalid_request'],
      [{ agent: 'no-such-agent', input: {} }, 400, 'unknown_agent'],
      [{ agent: 'refund-assistant', input: { customerId: 'C-1001' } }, 400, 'invalid_input'],
      [{ agent: 'refund-assistant', input: DEMO_INPUT, principal: 'bob' }, 400, 'invalid_request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await s.call('POST', '/v1/runs', { token: alice, body });
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, code);
      assert.ok(res.body.error.message.length > 5);
    }
    assert.equal((await s.call('GET', '/v1/runs/run-doesnotexist', { token: alice })).status, 404);
    assert.equal((await s.call('POST', '/v1/approvals/nonsense/decision', { token: await s.token('bob'), body: { decision: 'approve' } })).status, 404);
    assert.equal((await s.call('POST', '/v1/runs', { token: await s.token('bob'), body: { agent: 'refund-assistant', input: DEMO_INPUT } })).status, 403);
  });

  test('Idempotency-Key on POST /v1/runs starts one run', async () => {
    const alice = await s.token('alice');
    const headers = { 'idempotency-key': `k-${Date.now()}` };
    const a = await s.call('POST', '/v1/runs', { token: alice, body: { agent: 'refund-assistant', input: { ...DEMO_INPUT, amount: 1 } }, headers });
    const b = await s.call('POST', '/v1/runs', { token: alice, body: { agent: 'refund-assistant', input: { ...DEMO_INPUT, amount: 1 } }, headers });
    assert.equal(a.status, 202);
    assert.equal(b.body.runId, a.body.runId);
    await s.call('POST', `/v1/runs/${a.body.runId}/cancel`, { token: alice });
  });
});
