// The real approval window (72 h in the demo config) on Temporal's time-skipping test server:
// the durable timer neither fires early nor fails to fire. The API, worker and MCP servers are the
// real ones; only the clock is Temporal's.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { createWorker, type AirlockWorker } from '../../src/worker/worker.js';
import { temporalTestServer } from '../../src/temporal/binary.js';
import { DEMO_INPUT, startTestStack, type TestStack } from '../helpers/stack.js';

const HOUR = 3_600_000;

describe('approval expiry on the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  let s: TestStack;
  let worker: AirlockWorker;
  before(async () => {
    const path = temporalTestServer({ root: ROOT, env: process.env as Record<string, string> }, false);
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    s = await startTestStack({ parts: { temporal: false, worker: false }, env: { AIRLOCK_TEMPORAL_ADDRESS: env.address } });
    assert.equal(s.config.agents['refund-assistant']!.approvals.expiresAfter, 72 * HOUR, 'the demo default window');
    worker = await createWorker(s.config, env.nativeConnection, createLogger('warn'));
    void worker.run();
  });
  after(async () => {
    await worker?.shutdown();
    await s?.cleanup();
    await env?.teardown();
  });

  test('71 hours later the approval is still pending, and approving it completes the run', async () => {
    const runId = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 700 });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const startedAt = await env.currentTimeMs();
    await env.sleep(71 * HOUR);
    assert.ok((await env.currentTimeMs()) - startedAt >= 71 * HOUR, 'the test server skipped time');
    const still = await s.waitForRun(runId, () => true);
    assert.equal(still.status, 'awaiting_approval');
    const res = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await s.waitForRun(runId, (v) => v.status === 'completed');
    assert.deepEqual(
      s.refunds(runId).map((r) => r.invoice_id),
      ['INV-2005'],
    );
  });

  test('73 hours later the approval has expired: the run is rejected and the refund never runs', async () => {
    const runId = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2006', amount: 900 });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const approval = waiting.pendingApprovals[0]!;
    assert.equal(Date.parse(approval.expiresAt) - Date.parse(waiting.approvals[0]!.requestedAt), 72 * HOUR);
    await env.sleep(73 * HOUR);
    const done = await s.waitForRun(runId, (v) => v.status === 'rejected');
    assert.equal(done.approvals[0]!.status, 'expired');
    const late = await s.call('POST', `/v1/approvals/${approval.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(late.status, 410, JSON.stringify(late.body));
    assert.deepEqual(s.refunds(runId), []);
  });

  test('after 24 hours an unanswered approval escalates to finance-leads, who may then decide', async () => {
    const runId = await s.startRun({ ...DEMO_INPUT, customerId: 'C-1004', invoiceId: 'INV-2004', amount: 600 });
    const a = (await s.waitForRun(runId, (v) => v.status === 'awaiting_approval')).pendingApprovals[0]!;
    assert.equal(a.escalateTo, 'finance-leads');
    const early = await s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: await s.token('erin'), body: { decision: 'approve' } });
    assert.equal(early.status, 403);
    assert.match(early.body.error.message, /finance-leads" may decide after/);
    await env.sleep(25 * HOUR);
    const escalated = await s.waitForRun(runId, (v) => v.pendingApprovals[0]?.escalated === true);
    assert.match(escalated.waitingFor!, /"finance" or "finance-leads"/);
    const res = await s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: await s.token('erin'), body: { decision: 'approve' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await s.waitForRun(runId, (v) => v.status === 'completed');
  });
});
