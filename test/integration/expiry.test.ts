// Approvals expire on a durable timer: the run ends rejected and the tool never runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestStack, type TestStack } from '../helpers/stack.js';

describe('approval expiry', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack({ env: { AIRLOCK_APPROVAL_EXPIRY: '3s' } });
  });
  after(async () => {
    await s?.cleanup();
  });

  test('an unanswered approval expires, the run is rejected, a late decision gets 410', async () => {
    const runId = await s.startRun();
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const approvalId = waiting.pendingApprovals[0]!.approvalId;
    const done = await s.waitForRun(runId, (v) => v.status === 'rejected', 30_000);
    assert.equal(done.approvals[0]!.status, 'expired');
    assert.match(JSON.stringify(done.result), /expired/);
    const late = await s.call('POST', `/v1/approvals/${approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(late.status, 410, JSON.stringify(late.body));
    assert.deepEqual(s.refunds(runId), []);
  });
});
