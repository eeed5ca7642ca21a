// Recorded histories of the run workflow must replay against today's workflow code without
// nondeterminism errors. Committed fixtures catch unsafe changes; fresh ones catch drift within a run.
// Re-record fixtures after an intended, versioned change: AIRLOCK_RECORD_HISTORIES=1 npm test -- test/workflows/replay.test.ts
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import { workflowTracingSinks } from '../../src/observability/tracing.js';
import { workflowBundle } from '../../src/worker/bundle.js';
import { DEMO_INPUT, startTestStack, type TestStack } from '../helpers/stack.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'histories');
const record = process.env.AIRLOCK_RECORD_HISTORIES === '1';

async function replay(histories: Array<{ workflowId: string; history: unknown }>) {
  const bundle = await workflowBundle();
  const results = [];
  // The bundle's tracing interceptors export through the `exporter` sink (a replay worker never calls it).
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'airlock-replay', sinks: workflowTracingSinks() }, histories as never)) results.push(r);
  return results;
}

describe('workflow replay', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack();
  });
  after(async () => {
    await s?.cleanup();
  });

  test('histories recorded in this run replay (approve, reject)', async () => {
    const approved = await s.startRun();
    let v = await s.waitForRun(approved, (x) => x.status === 'awaiting_approval');
    await s.call('POST', `/v1/approvals/${v.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    await s.waitForRun(approved, (x) => x.status === 'completed');
    const rejected = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 600 });
    v = await s.waitForRun(rejected, (x) => x.status === 'awaiting_approval');
    await s.call('POST', `/v1/approvals/${v.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'reject' } });
    await s.waitForRun(rejected, (x) => x.status === 'rejected');

    const histories = [];
    for (const [name, id] of [
      ['approved', approved],
      ['rejected', rejected],
    ] as const) {
      const history = await s.client.workflow.getHandle(id).fetchHistory();
      histories.push({ workflowId: id, history });
      if (record) {
        mkdirSync(FIXTURES, { recursive: true });
        writeFileSync(join(FIXTURES, `refund-${name}.json`), historyToJSON(history));
      }
    }
    const results = await replay(histories);
    assert.equal(results.length, 2);
    for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error}`);
  });

  test('committed history fixtures replay against the current workflow code', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 2, 'fixtures exist');
    const results = await replay(files.map((f) => ({ workflowId: f, history: JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) })));
    assert.equal(results.length, files.length);
    for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error}`);
  });
});
