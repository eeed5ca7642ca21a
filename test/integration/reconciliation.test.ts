// Reconciliation on the real stack: a run that fails after it changed a business system leaves a record of what ran
// and what did not, in the run view, the audit trail and the metrics. The built-in agent opens a real ticket on the
// demo ticketing system, then calls a notes server (a real stdio MCP server) that writes its note and dies before it
// answers. A run whose very first call fails that way changed nothing, and leaves no record.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import type { RunView } from '../../src/core/types.js';
import { assertAuditStory, countOf, runAudit } from '../helpers/audit.js';
import { demoLockFileCopy, demoPolicyDirWithWrite, pinServers } from '../helpers/shop.js';
import { startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

const DYING_NOTES = join(ROOT, 'test', 'fixtures', 'mcp', 'dying-notes.ts');
const METRIC = 'airlock_runs_needing_reconciliation_total';
const INPUT = { customerId: 'C-1001', invoiceId: 'INV-2001', message: 'Customer was double charged; please refund.' };

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format); 0 when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe('reconciliation of a run that fails after a change', () => {
  let s: TestStack;
  const notesFile = join(mkdtempSync(join(tmpdir(), 'airlock-notes-')), 'notes.jsonl');
  const notes = () =>
    existsSync(notesFile)
      ? readFileSync(notesFile, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  const lockFile = demoLockFileCopy();

  before(async () => {
    s = await startTestStack({
      overrides: (cfg) => {
        cfg.policy.dir = demoPolicyDirWithWrite('notes.add_note', '{ accountId: String, body: String }');
        cfg.registry.lockFile = lockFile;
        // The audit trail masks the note's text (for the redaction check of the reconciliation record below).
        cfg.audit.redact = { ...cfg.audit.redact, 'notes.add_note': ['body'] };
        // Internal, like ticketing: the run holds internal data after opening the ticket, and no-write-down lets it write here.
        cfg.servers.notes = {
          transport: 'stdio',
          command: process.execPath,
          args: ['--import', 'tsx', DYING_NOTES, notesFile],
          cwd: ROOT,
          env: {},
          classification: 'internal',
          status: 'approved',
          credentials: [],
        };
        const base = { ...cfg.agents['refund-assistant']!, servers: ['ticketing', 'notes'], autonomy: 'autonomous' as const, inputSchema: { type: 'object' }, facts: {}, onFailure: [], maxSteps: 6 };
        cfg.agents['ticket-noter'] = {
          ...base,
          playbook: [
            { tool: 'ticketing.create_ticket', args: { accountId: '{{input.customerId}}', subject: 'Refund request for {{input.invoiceId}}', body: '{{input.message}}', priority: 'normal' } },
            { tool: 'notes.add_note', args: { accountId: '{{input.customerId}}', body: 'Opened ticket {{steps.ticketing.create_ticket.ticketId}}.' } },
            { tool: 'ticketing.update_ticket', args: { ticketId: '{{steps.ticketing.create_ticket.ticketId}}', status: 'resolved', comment: 'Noted on the account.' } },
          ],
        };
        // Nothing changes: its first call (a refund by an agent no refund policy names) is denied.
        cfg.agents['denied-refunder'] = { ...base, servers: ['billing'], playbook: [{ tool: 'billing.issue_refund', args: { invoiceId: '{{input.invoiceId}}', amount: 10, currency: 'USD' } }] };
        // The same failure on the first call: nothing completed before it, but the note may have been written.
        cfg.agents['first-noter'] = {
          ...base,
          playbook: [
            { tool: 'notes.add_note', args: { accountId: '{{input.customerId}}', body: 'First thing.' } },
            { tool: 'ticketing.create_ticket', args: { accountId: '{{input.customerId}}', subject: 'Never opened', body: '{{input.message}}', priority: 'normal' } },
          ],
        };
      },
    });
    await pinServers(s.config.servers, lockFile, ['notes']);
  });
  after(async () => {
    await s?.cleanup();
  });

  const metrics = async () => {
    const res = await fetch(`${s.apiUrl}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };

  /** Starts a run of `agent` for alice and waits for it to end. */
  async function runToEnd(agent: string): Promise<RunView> {
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent, input: INPUT } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const runId = res.body.runId as string;
    const ended = await s.waitForRun(runId, (v) => ['completed', 'failed', 'rejected', 'cancelled'].includes(v.status), 120_000);
    // The run's last audit record is written after its view shows the end.
    await waitFor(
      async () => (await runAudit(s, runId)).at(-1)?.type,
      (t) => t === `run.${ended.status}`,
      30_000,
      `run.${ended.status} recorded`,
    );
    return ended;
  }

  /** The ticket as the demo ticketing system has it now. */
  async function ticket(ticketId: string): Promise<Record<string, unknown>> {
    const mcp = new Client({ name: 'reconciliation-test', version: '1.0.0' });
    const server = s.config.servers.ticketing!;
    await mcp.connect(new StreamableHTTPClientTransport(new URL(server.transport === 'http' ? server.url : '')));
    try {
      const r = await mcp.callTool({ name: 'get_ticket', arguments: { ticketId } });
      return (r.structuredContent ?? JSON.parse((r.content as Array<{ text: string }>)[0]!.text)) as Record<string, unknown>;
    } finally {
      await mcp.close();
    }
  }

  test('a run that dies on its second write lists the ticket it opened as done and the note as not done, in its view, its audit trail and the metrics', async (t) => {
    const before = await metrics();
    const notesBefore = notes().length;
    const v = await runToEnd('ticket-noter');

    // The run failed on the note: the server died after the call was sent, so its outcome is unknown (it did write).
    assert.equal(v.status, 'failed', JSON.stringify(v));
    assert.equal(v.error!.type, 'OutcomeUnknown', JSON.stringify(v.error));
    assert.match(v.error!.message, /^notes\.add_note may or may not have run/);
    assert.match(v.steps[1]!.error!, /^outcome unknown: notes\.add_note was sent, then the connection was lost \(.*Connection closed\)/);
    assert.deepEqual(
      v.steps.map((x) => [x.index, x.tool, x.status]),
      [
        [0, 'ticketing.create_ticket', 'completed'],
        [1, 'notes.add_note', 'failed'],
      ],
      'the third playbook step was never proposed',
    );
    const ticketId = (v.steps[0]!.result!.data as { ticketId: string }).ticketId;
    assert.match(ticketId, /^T-\d+$/);

    // The change really happened on the ticketing system, and the note's server got the call before it died.
    assert.equal((await ticket(ticketId)).status, 'open');
    assert.deepEqual(
      notes()
        .slice(notesBefore)
        .map((n) => [n.accountId, n.body]),
      [['C-1001', `Opened ticket ${ticketId}.`]],
      'the note reached the notes server exactly once (no retry of a non-idempotent write)',
    );

    // The run view's reconciliation record: what ran (with its args), and what did not.
    const r = v.reconciliation!;
    assert.ok(r, 'the view carries a reconciliation record');
    t.diagnostic(`reconciliation reason: ${r.reason}`);
    assert.deepEqual(r.done, [
      {
        step: 0,
        tool: 'ticketing.create_ticket',
        args: { accountId: 'C-1001', subject: 'Refund request for INV-2001', body: INPUT.message, priority: 'normal' },
        resultDigest: v.steps[0]!.result!.digest,
      },
    ]);
    assert.match(r.done[0]!.resultDigest!, /^sha256:[0-9a-f]{64}$|^[0-9a-f]{64}$/);
    assert.deepEqual(
      r.notDone.map((d) => [d.step, d.tool, d.args, d.status]),
      [[1, 'notes.add_note', { accountId: 'C-1001', body: `Opened ticket ${ticketId}.` }, 'failed']],
    );
    assert.equal(r.notDone[0]!.error, v.steps[1]!.error);
    assert.ok(r.notDone[0]!.error, 'the failed call says why');
    assert.equal(
      r.reason,
      `the run ended failed after 1 change to business systems (ticketing.create_ticket) and 1 write whose outcome is unknown (notes.add_note): ${v.error!.message}; finish or undo the work by hand`,
    );

    // The audit trail: exactly one run.reconciliation record, with the same lists, just before the run's end.
    const records = await assertAuditStory(s, v);
    assert.equal(countOf(records, 'run.reconciliation'), 1, JSON.stringify(records.map((x) => x.type)));
    const rec = records.find((x) => x.type === 'run.reconciliation')!;
    assert.equal(rec.outcome, 'needs_reconciliation');
    assert.equal(rec.agent, 'ticket-noter');
    assert.deepEqual(rec.data.reason, r.reason);
    assert.deepEqual(rec.data.done, r.done);
    assert.deepEqual(
      (rec.data.notDone as Array<Record<string, unknown>>).map((d) => [d.step, d.tool, (d.args as { accountId: string }).accountId, d.status, d.error]),
      r.notDone.map((d) => [d.step, d.tool, d.args.accountId, d.status, d.error]),
    );
    assert.equal(records.at(-2)!.type, 'run.reconciliation');
    const failedCall = records.find((x) => x.type === 'tool.executed' && x.tool === 'add_note')!;
    assert.equal(failedCall.outcome, 'failed');
    // The audit configuration masks the note's text: on the call's own record and in the reconciliation record alike.
    assert.equal((failedCall.data.args as { body: string }).body, '[REDACTED]', 'tool.executed masks the note');
    assert.equal((rec.data.notDone as Array<{ args: { body: string } }>)[0]!.args.body, '[REDACTED]', 'run.reconciliation masks the same note');
    assert.equal((rec.data.done as Array<{ args: { body: string } }>)[0]!.args.body, INPUT.message, 'other tools keep their own rules');

    // The metrics: one more run needing reconciliation, counted for this agent.
    const afterText = await waitFor(metrics, (t) => sample(t, METRIC) >= sample(before, METRIC) + 1, 15_000, `${METRIC} incremented`);
    assert.equal(sample(afterText, METRIC) - sample(before, METRIC), 1);
    assert.equal(sample(afterText, METRIC, { agent: 'ticket-noter' }) - sample(before, METRIC, { agent: 'ticket-noter' }), 1);
  });

  test('a write that dies on the first call may still have run: its outcome is unknown, and a person is told', async () => {
    const before = await metrics();
    const notesBefore = notes().length;
    const v = await runToEnd('first-noter');

    assert.equal(v.status, 'failed', JSON.stringify(v));
    assert.equal(v.error!.type, 'OutcomeUnknown', JSON.stringify(v.error));
    assert.deepEqual(
      v.steps.map((x) => [x.tool, x.status]),
      [['notes.add_note', 'failed']],
    );
    // The notes server was reached again (the pool reconnected after the last one died), and it did write.
    assert.equal(notes().length - notesBefore, 1);
    assert.deepEqual(v.reconciliation?.done, []);
    assert.deepEqual(
      v.reconciliation?.notDone.map((d) => [d.tool, d.status]),
      [['notes.add_note', 'failed']],
    );
    assert.match(v.reconciliation!.reason, /^the run ended failed after 1 write whose outcome is unknown \(notes\.add_note\)/);
    const afterText = await waitFor(metrics, (t) => sample(t, METRIC, { agent: 'first-noter' }) >= 1, 15_000, `${METRIC} incremented`);
    assert.equal(sample(afterText, METRIC, { agent: 'first-noter' }) - sample(before, METRIC, { agent: 'first-noter' }), 1);
  });

  test('control: a run whose only call is denied changed nothing and has no reconciliation record', async () => {
    const before = await metrics();
    const v = await runToEnd('denied-refunder');
    assert.equal(v.status, 'failed', JSON.stringify(v));
    assert.equal(v.error!.type, 'PolicyDenied', JSON.stringify(v.error));
    assert.equal(v.reconciliation, undefined);
    const records = await assertAuditStory(s, v);
    assert.equal(countOf(records, 'run.reconciliation'), 0);
    // Nothing counted: the run.failed record is written (awaited above) in the same batch a reconciliation record would be.
    const afterText = await metrics();
    assert.equal(sample(afterText, METRIC, { agent: 'denied-refunder' }), sample(before, METRIC, { agent: 'denied-refunder' }));
  });
});
