// The Temporal CLI is not approval power: `temporal workflow update execute` aimed at a run's decideApproval
// update, with a well-formed vote naming a finance approver, is refused by the workflow, because the vote carries
// no proof from the Airlock API. The approval stays pending, no vote is recorded, nothing is audited and no refund
// is made; the run stays healthy, and a real approval through the API still completes it.
//
// Why the refusal is the proof check and not the payload codec: the CLI sends its `--input` as a plain
// `json/plain` payload. Airlock's AES-GCM codec (src/temporal/codec.ts) decodes only payloads whose encoding is
// `binary/encrypted` and passes any other payload through unchanged, so the worker reads the CLI's vote as it was
// written; it is then the update validator (workflows/proof.ts `requireProof`) that rejects it, with a Forbidden
// failure the CLI prints.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { temporalCli } from '../../src/temporal/binary.js';
import { runAudit } from '../helpers/audit.js';
import { DEMO_INPUT, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function runCli(bin: string, args: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string | null }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout: String(stdout),
        stderr: String(stderr),
      });
    });
  });
}

describe('proof-carrying decisions against the Temporal CLI (real stack, the `temporal` binary Airlock installs)', () => {
  let s: TestStack;
  let cli: string;
  before(async () => {
    s = await startTestStack();
    // The same binary the dev server runs: configured path, else PATH, else .tools/venv (no install from a test).
    cli = temporalCli({ root: s.config.root, configured: s.config.temporal.cli, env: s.config.env }, false);
  });
  after(async () => {
    await s?.cleanup();
  });

  test('a vote sent with `temporal workflow update execute` is refused; the approval stays pending and the refund does not run', async () => {
    const runId = await s.startRun({ ...DEMO_INPUT, amount: 600 });
    const a = (await s.waitForRun(runId, (v) => v.status === 'awaiting_approval', 120_000)).pendingApprovals[0]!;
    assert.equal(a.status, 'pending');

    const forged = { approvalId: a.approvalId, decision: 'approve', approver: { subject: 'mallory', groups: ['finance'] } };
    const args = [
      'workflow',
      'update',
      'execute',
      '--address',
      s.temporalAddress,
      '--namespace',
      s.config.temporal.namespace ?? 'default',
      '--workflow-id',
      runId,
      '--name',
      'decideApproval',
      '--input',
      JSON.stringify(forged),
    ];
    // A CLI update may hold a workflow task for a while (~40 s seen); the timeout is generous and time is not asserted.
    const r = await runCli(cli, args, 120_000);
    const output = `${r.stdout}\n${r.stderr}`;
    console.log(`temporal ${args.join(' ')}\n-> exit ${r.code ?? r.signal}\n${output.trim()}`);
    assert.equal(r.signal, null, `the CLI was killed (timeout?): ${output}`);
    assert.notEqual(r.code, 0, `the forged update was accepted: ${output}`);
    // The workflow's validator refused it (workflows/proof.ts requireProof), and the CLI says so.
    // It prints e.g. `Error: unable to update workflow: this message carries no proof from the Airlock API: … (type: Forbidden, retryable: false)`.
    assert.match(output, /no proof from the Airlock API/, output);
    assert.match(output, /Forbidden/, output);
    assert.doesNotMatch(output, /does not decrypt|PayloadCodecError/, 'refused by the proof check, not by payload decoding');

    const still = await s.waitForRun(runId, () => true);
    assert.equal(still.status, 'awaiting_approval');
    assert.equal(still.pendingApprovals.length, 1);
    assert.equal(still.pendingApprovals[0]!.approvalId, a.approvalId);
    assert.equal(still.pendingApprovals[0]!.status, 'pending');
    assert.deepEqual(still.pendingApprovals[0]!.votes, []);
    assert.equal(s.refunds(runId).length, 0);
    const records = await runAudit(s, runId);
    assert.equal(records.filter((x) => x.type === 'approval.decided').length, 0, JSON.stringify(records.map((x) => x.type)));
    assert.ok(!JSON.stringify(records).includes('mallory'), 'the forger never reaches the audit trail');

    // The refusal left the run healthy: bob's approval through the API completes it, with one refund.
    const bob = await s.token('bob');
    await waitFor(
      () => s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: bob, body: { decision: 'approve' } }),
      (res) => res.status === 200,
      120_000,
      "bob's approval through the API",
    );
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(
      done.approvals[0]!.votes.map((v) => v.by),
      ['bob'],
    );
    assert.equal(s.refunds(runId).length, 1);
    const after = await runAudit(s, runId);
    assert.equal(after.filter((x) => x.type === 'approval.decided').length, 1);
    assert.ok(!JSON.stringify(after).includes('mallory'));
  });
});
