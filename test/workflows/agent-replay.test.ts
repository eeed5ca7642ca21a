// Replaying an agent's recorded histories against its current code (`airlock replay`, src/worker/replay.ts): the
// committed refund-react histories replay with examples/agents/refund-react.ts, and fail with a nondeterminism error
// against a changed graph that makes one more tool call before the refund (test/fixtures/replay/).
// Re-record after an intended, versioned change: AIRLOCK_RECORD_HISTORIES=1 npm test -- test/workflows/agent-replay.test.ts
// (they live in a subdirectory: test/workflows/replay.test.ts replays the top-level fixtures without any agents).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, ROOT } from '../../src/config/load.js';
import { fetchHistories, replayHistories } from '../../src/worker/replay.js';
import { DEMO_INPUT, startTestStack } from '../helpers/stack.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'histories', 'agents');
const CHANGED_GRAPH = join(ROOT, 'test', 'fixtures', 'replay', 'refund-react-changed.ts');
const PATCHED_GRAPH = join(ROOT, 'test', 'fixtures', 'replay', 'refund-react-patched.ts');
const CONFIG_FILE = join(ROOT, 'examples', 'airlock.yaml');
const record = process.env.AIRLOCK_RECORD_HISTORIES === '1';

const fixtures = () =>
  readdirSync(FIXTURES)
    .filter((f) => f.startsWith('refund-react-') && f.endsWith('.json'))
    .map((f) => join(FIXTURES, f));
const config = (graph?: string) =>
  loadConfig({
    file: CONFIG_FILE,
    env: {},
    overrides: (cfg) => {
      if (graph) cfg.agents['refund-react']!.graph = graph;
    },
  });

describe('replaying an agent’s recorded histories', () => {
  test('record refund-react and dispute-triage histories (AIRLOCK_RECORD_HISTORIES=1)', { skip: !record && 'set AIRLOCK_RECORD_HISTORIES=1 to re-record' }, async () => {
    const s = await startTestStack();
    const tmp = mkdtempSync(join(tmpdir(), 'airlock-histories-'));
    try {
      const start = async (input: Record<string, unknown>) => {
        const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'refund-react', input } });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        return res.body.runId as string;
      };
      // A refund that policy allows, and one that waits for finance's approval inside the graph.
      const allowed = await start({ ...DEMO_INPUT, invoiceId: 'INV-2003', amount: 120 });
      await s.waitForRun(allowed, (v) => v.status === 'completed', 120_000);
      const approved = await start({ ...DEMO_INPUT, invoiceId: 'INV-2001', amount: 700 });
      const waiting = await s.waitForRun(approved, (v) => v.status === 'awaiting_approval', 120_000);
      const res = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await s.waitForRun(approved, (v) => v.status === 'completed', 120_000);

      // dispute-triage: parallel reads (Send), a model node, interrupt() answered, then a refund finance approves.
      const disputeRes = await s.call('POST', '/v1/runs', {
        token: await s.token('alice'),
        body: { agent: 'dispute-triage', input: { customerId: 'C-1001', invoiceId: 'INV-2005', message: 'Charged twice.' } },
      });
      assert.equal(disputeRes.status, 202, JSON.stringify(disputeRes.body));
      const dispute = disputeRes.body.runId as string;
      const asked = await s.waitForRun(dispute, (v) => v.status === 'awaiting_input', 120_000);
      const answered = await s.call('POST', `/v1/runs/${dispute}/input`, { token: await s.token('alice'), body: { inputId: asked.pendingInputs![0]!.inputId, value: 700 } });
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      const gated = await s.waitForRun(dispute, (v) => v.status === 'awaiting_approval', 120_000);
      const ok = await s.call('POST', `/v1/approvals/${gated.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      await s.waitForRun(dispute, (v) => v.status === 'completed', 120_000);

      const written = await fetchHistories(s.client, [allowed, approved, dispute], tmp);
      assert.deepEqual(
        written.map((f) => relative(tmp, f)),
        [`${allowed}.json`, `${approved}.json`, `${dispute}.json`],
      );
      mkdirSync(FIXTURES, { recursive: true });
      for (const [name, file] of [
        ['refund-react-allowed', written[0]!],
        ['refund-react-approved', written[1]!],
        ['dispute-triage-approved', written[2]!],
      ] as const) {
        const to = join(FIXTURES, `${name}.json`);
        copyFileSync(file, to);
        assert.ok(statSync(to).size < 400_000, `${to} stays small`);
      }
    } finally {
      await s.cleanup();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('the committed dispute-triage history (Send, a model node, interrupt, an approval) replays against the current agent code', async () => {
    const file = join(FIXTURES, 'dispute-triage-approved.json');
    const [result] = await replayHistories(config(), [file]);
    assert.deepEqual([result!.ok, result!.error], [true, undefined]);
  });

  test('the committed refund-react histories replay against the current agent code', async () => {
    const files = fixtures();
    assert.equal(files.length, 2, 'refund-react-allowed.json and refund-react-approved.json');
    const results = await replayHistories(config(), files);
    assert.deepEqual(
      results.map((r) => [r.file, r.ok, r.error]),
      files.map((f) => [f, true, undefined]),
    );
    assert.ok(
      results.every((r) => r.workflowId.startsWith('run-')),
      'the workflow id comes from the history',
    );
  });

  test('against a graph that makes one more tool call, they fail with a nondeterminism error', async () => {
    const results = await replayHistories(config(CHANGED_GRAPH), fixtures());
    assert.equal(results.length, 2);
    for (const r of results) {
      assert.equal(r.ok, false, `${r.file} must not replay against the changed graph`);
      assert.equal(r.kind, 'nondeterminism', `${r.file}: ${r.error}`);
      // The first mismatch, with the recorded event it concerns: the run's 5th model call, where the changed graph
      // is still busy with the refund (core compares the kind and order of calls, not their arguments).
      assert.match(r.error!, /^nondeterminism: .*\(history event \d+ ActivityTaskScheduled chat "model call 5 in agent"\)$/);
      assert.match(r.workflowId, /^run-/);
      assert.doesNotMatch(r.error!, /\n/, 'one line');
    }
  });

  test('the same change behind patched() (inside a node) replays', async () => {
    const results = await replayHistories(config(PATCHED_GRAPH), fixtures());
    assert.deepEqual(
      results.map((r) => [r.ok, r.error]),
      [
        [true, undefined],
        [true, undefined],
      ],
    );
  });

  test('`airlock replay`: ok and exit 0; a file that is not a history is one FAIL line and exit 1; no files is exit 2', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'airlock-replay-cli-'));
    try {
      const garbage = join(tmp, 'garbage.json');
      writeFileSync(garbage, '{"not": "a history"}\n');
      const cli = (...args: string[]) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--config', CONFIG_FILE, 'replay', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
      const file = relative(ROOT, fixtures()[0]!);
      const ok = cli(file);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, `ok ${file}\n`);

      const bad = cli(garbage);
      assert.equal(bad.status, 1, bad.stderr);
      const lines = bad.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 1, bad.stdout);
      assert.match(lines[0]!, new RegExp(`^FAIL ${garbage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a Temporal history`));
      assert.doesNotMatch(bad.stdout + bad.stderr, /\n\s+at /, 'no stack trace');

      const usage = cli();
      assert.equal(usage.status, 2);
      assert.match(usage.stderr, /^airlock replay: /);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
