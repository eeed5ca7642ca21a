// Crashes and restarts: a worker process killed mid-call and while paused; the whole stack restarted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawnNode, spawnWorker, type Proc } from '../helpers/process.js';
import { assertAuditStory, runAudit } from '../helpers/audit.js';
import { DEMO_INPUT, freePort, startTestStack, testEnv, waitFor, withHelpers, type TestStack } from '../helpers/stack.js';
import { DevIssuer } from '../../src/identity/devIssuer.js';
import { rmSync } from 'node:fs';

describe('worker crashes', () => {
  let s: TestStack;
  let worker: Proc | undefined;
  const workerEnv = () => ({ ...s.env, AIRLOCK_TEMPORAL_ADDRESS: s.temporalAddress });
  const startWorker = async () => {
    worker = spawnWorker(workerEnv());
    await waitFor(
      () => s.call('GET', '/readyz'),
      (r) => r.status === 200,
      60_000,
      `worker ready; output: ${worker.output()}`,
    );
  };
  /** Each test starts from one running worker, whichever test ran (and killed workers) before it. */
  const ensureWorker = async () => {
    if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null) await startWorker();
  };
  before(async () => {
    // The billing server holds each refund 4 s after committing it, so the worker can die mid-call.
    s = await startTestStack({ parts: { worker: false }, env: { AIRLOCK_DEMO_REFUND_DELAY_MS: '4000' } });
  });
  after(async () => {
    await worker?.stop('SIGKILL');
    await s?.cleanup();
  });

  test('killed while the approved refund is in flight: a new worker finishes with exactly one refund', async () => {
    await ensureWorker();
    const runId = await s.startRun();
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const approvalId = waiting.pendingApprovals[0]!.approvalId;
    const res = await s.call('POST', `/v1/approvals/${approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(res.status, 200);
    // The refund is committed on the billing system, and its tool call has not returned yet.
    await waitFor(
      async () => s.refunds(runId).length,
      (n) => n === 1,
      30_000,
      'refund committed',
    );
    assert.equal(await worker!.stop('SIGKILL'), 137);
    await startWorker();
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 90_000);
    assert.equal(s.refunds(runId).length, 1, 'the retried call reused the idempotency key');
    const refundStep = done.steps.find((x) => x.tool === 'billing.issue_refund')!;
    assert.equal((refundStep.result!.data as { replayed?: boolean }).replayed, true, 'the second attempt was answered from the idempotency record');
    // The killed attempt had already written the approval's vote; the retry wrote nothing twice and skipped nothing.
    await waitFor(
      () => runAudit(s, runId),
      (r) => r.at(-1)?.type === 'run.completed',
      30_000,
      'run.completed recorded',
    );
    await assertAuditStory(s, done);
  });

  test('killed while paused: the run keeps waiting, and approval with a new worker completes it', async () => {
    await ensureWorker();
    const runId = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 505 });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    await worker!.stop('SIGKILL');
    await startWorker();
    const still = await s.waitForRun(runId, () => true);
    assert.equal(still.status, 'awaiting_approval');
    const res = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('carol'), body: { decision: 'approve' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 90_000);
    assert.equal(s.refunds(runId).length, 1);
    await waitFor(
      () => runAudit(s, runId),
      (r) => r.at(-1)?.type === 'run.completed',
      30_000,
      'run.completed recorded',
    );
    await assertAuditStory(s, done);
  });
});

describe('full stack restart (npm start)', () => {
  test('a run awaiting approval survives stop and restart of everything, then completes', async () => {
    const env = await testEnv({ env: { AIRLOCK_API_PORT: String(await freePort()) } });
    const apiUrl = `http://127.0.0.1:${env.AIRLOCK_API_PORT}`;
    const start = async () => {
      const p = spawnNode(['scripts/bootstrap.mjs', 'start'], env);
      await waitFor(
        () => fetch(`${apiUrl}/readyz`).then((r) => r.status),
        (st) => st === 200,
        120_000,
        `stack ready; output: ${p.output()}`,
      );
      return p;
    };
    let proc = await start();
    try {
      const issuer = await DevIssuer.open(env.AIRLOCK_DATA_DIR!, 3_600_000);
      const s = withHelpers({ apiUrl, issuer } as never, env, env.AIRLOCK_DATA_DIR!);
      const runId = await s.startRun();
      const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
      assert.equal(await proc.stop('SIGTERM'), 0, `clean exit on SIGTERM; output: ${proc.output()}`);
      await assert.rejects(fetch(`${apiUrl}/healthz`), 'API is down');

      proc = await start();
      const after = await s.waitForRun(runId, () => true);
      assert.equal(after.status, 'awaiting_approval');
      assert.equal(after.pendingApprovals[0]!.approvalId, waiting.pendingApprovals[0]!.approvalId);
      const res = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await s.waitForRun(runId, (v) => v.status === 'completed', 90_000);
      assert.equal(s.refunds(runId).length, 1);
    } finally {
      await proc.stop('SIGTERM');
      rmSync(env.AIRLOCK_DATA_DIR!, { recursive: true, force: true });
    }
  });
});
