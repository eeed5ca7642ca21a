// The audit trail of real runs: the whole story once, queried over REST, verified by the CLI, redacted,
// and fail-closed when the store refuses writes.
import assert from 'node:assert/strict';
import { openSqliteDatabase } from '../../src/store/sqliteDriver.js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import { SA } from '../../workflows/definitions.js';
import { assertAuditStory, countOf, runAudit } from '../helpers/audit.js';
import { DEMO_INPUT, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';
import { PG_URL } from '../audit/helpers.js';

const CARD = '4111 1111 1111 1111';

/** Runs the CLI without blocking this process (the stack under test lives in it). */
function airlockCli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { env, cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe('audit trail of real runs (SQLite)', () => {
  let s: TestStack;
  const auditDb = () => join(s.dataDir, 'audit.db');
  const airlock = (...args: string[]) => airlockCli(s.env, ...args);
  before(async () => {
    s = await startTestStack();
  });
  after(async () => {
    await s?.cleanup();
  });
  /**
   * A refund run that bob approves, complete with its trail. Each test makes its own (with its own
   * invoice and amount, so the refunds of one never use up what another's may refund), whatever ran before.
   */
  const approvedRun = async (input: Record<string, unknown>) => {
    const runId = await s.startRun({ ...DEMO_INPUT, ...input });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const approval = waiting.pendingApprovals[0]!;
    const decided = await s.call('POST', `/v1/approvals/${approval.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve', comment: 'checked the statement' } });
    assert.equal(decided.status, 200);
    const done = await s.waitForRun(runId, (v) => v.status === 'completed');
    const records = await waitFor(
      () => runAudit(s, runId),
      (r) => r.at(-1)?.type === 'run.completed',
      15_000,
      'run.completed recorded',
    );
    return { runId, approval, done, records };
  };

  test('an approved run tells its whole story once: who, what, which policy, approved by whom, with what result', async () => {
    const { runId, approval, done, records } = await approvedRun({ message: `Double charged on card ${CARD}; please refund.` });
    await assertAuditStory(s, done);

    const started = records[0]!;
    assert.equal(started.principal, 'alice');
    assert.equal(started.agent, 'refund-assistant');
    assert.match(String(started.data.inputDigest), /^[0-9a-f]{64}$/);
    const policy = records.find((r) => r.type === 'policy.decided' && r.tool === 'issue_refund')!;
    assert.equal(policy.outcome, 'require_approval');
    assert.ok((policy.data.policyIds as string[]).length > 0, 'the determining policies are named');
    assert.match(String(policy.data.policyVersion), /^[0-9a-f]{8,}/);
    assert.equal(policy.data.digest, approval.digest, 'the decision is bound to the approved call');
    const vote = records.find((r) => r.type === 'approval.decided')!;
    assert.deepEqual([vote.principal, vote.outcome, vote.data.comment, vote.data.settled], ['bob', 'approve', 'checked the statement', 'approved']);
    const refund = records.find((r) => r.type === 'tool.executed' && r.tool === 'issue_refund')!;
    assert.equal(refund.outcome, 'success');
    assert.match(String(refund.data.resultDigest), /^[0-9a-f]{64}$/);
    assert.equal(typeof refund.data.durationMs, 'number');
    assert.ok(records.indexOf(vote) < records.indexOf(refund), 'the approval is on record before the call');
    assert.equal(records.find((r) => r.type === 'model.routed')!.data.model, 'embedded');
    // The Temporal UI shows the run's risk next to agent, requester and status.
    const desc = await s.client.workflow.getHandle(runId).describe();
    assert.equal(desc.typedSearchAttributes.get(SA.risk), 'high', 'an approval made the run high-risk');
    assert.equal(desc.typedSearchAttributes.get(SA.agent), 'refund-assistant');

    // Redaction: the card number in the input reached tool args (ticket body, refund reason), never the store.
    const text = JSON.stringify(records);
    assert.ok(!text.includes(CARD) && !text.includes(CARD.replace(/ /g, '')), 'card number stored');
    assert.ok(text.includes('[REDACTED card]'), 'the card-like number was masked where it appeared');
    const raw = readFileSync(auditDb()).toString('latin1') + readFileSync(`${auditDb()}-wal`, { flag: 'a+' }).toString('latin1');
    assert.ok(!raw.includes(CARD), 'card number in the database file');
  });

  test('GET /v1/audit filters, pages and exports JSONL; operators only', async () => {
    const { runId } = await approvedRun({ invoiceId: 'INV-2006', amount: 600 });
    const olivia = await s.token('olivia');
    assert.equal((await s.call('GET', '/v1/audit', { token: await s.token('alice') })).status, 403);
    assert.equal((await s.call('GET', `/v1/runs/${runId}/audit`, { token: await s.token('bob') })).status, 403);
    assert.equal((await s.call('GET', '/v1/audit')).status, 401);
    const bad = await s.call('GET', '/v1/audit?from=yesterday', { token: olivia });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /from: expected an ISO-8601 time/);
    assert.equal((await s.call('GET', '/v1/audit?limit=0', { token: olivia })).status, 400);

    const all = (await s.call('GET', `/v1/audit?runId=${runId}&limit=1000`, { token: olivia })).body.records;
    const byTool = await s.call('GET', `/v1/audit?runId=${runId}&tool=billing.issue_refund`, { token: olivia });
    assert.deepEqual(
      byTool.body.records.map((r: { type: string }) => r.type),
      ['tool.proposed', 'tool.validated', 'policy.decided', 'approval.requested', 'approval.decided', 'tool.executed'],
    );
    const approvals = await s.call('GET', `/v1/audit?outcome=require_approval&principal=alice&runId=${runId}`, { token: olivia });
    assert.deepEqual(
      approvals.body.records.map((r: { type: string; tool: string }) => [r.type, r.tool]),
      [['policy.decided', 'issue_refund']],
    );
    const from = all[3].at;
    const windowed = (await s.call('GET', `/v1/audit?runId=${runId}&from=${encodeURIComponent(from)}&limit=1000`, { token: olivia })).body.records;
    assert.ok(windowed.length > 0 && windowed.length < all.length && windowed.every((r: { at: string }) => r.at >= from));

    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page: { body: { records: Array<{ eventId: string }>; next: string | null } } = await s.call('GET', `/v1/audit?runId=${runId}&limit=7${next ? `&after=${next}` : ''}`, { token: olivia });
      seen.push(...page.body.records.map((r) => r.eventId));
      next = page.body.next;
    } while (next);
    assert.deepEqual(
      seen,
      all.map((r: { eventId: string }) => r.eventId),
    );

    const res = await fetch(`${s.apiUrl}/v1/audit?runId=${runId}&format=jsonl`, { headers: { authorization: `Bearer ${olivia}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((r) => r.eventId),
      seen,
    );
  });

  test('GET /v1/readiness answers the seven questions for operators', async () => {
    assert.equal((await s.call('GET', '/v1/readiness', { token: await s.token('alice') })).status, 403);
    const r = await s.call('GET', '/v1/readiness', { token: await s.token('olivia') });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.questions.map((q: { id: string }) => q.id),
      ['execution', 'systems', 'identity', 'approvals', 'controls', 'independence', 'dataflow'],
    );
    const controls = r.body.questions.find((q: { id: string }) => q.id === 'controls');
    assert.match(controls.answer, /sqlite/i, 'names the audit store in use');
    assert.ok(
      r.body.questions.every((q: { links: Array<{ file: string }> }) => q.links.length > 0),
      'each answer links to config',
    );
  });

  test('`airlock audit verify` passes on the live trail and names the record an attacker edits', async () => {
    const { runId } = await approvedRun({ invoiceId: 'INV-2006', amount: 700 });
    assert.equal((await airlock('audit', 'anchor')).code, 0);
    const clean = await airlock('audit', 'verify');
    assert.equal(clean.code, 0, clean.out);
    assert.match(clean.out, /OK: the audit trail is intact/);

    const db = openSqliteDatabase(auditDb());
    const target = db.prepare(`SELECT chain, chain_seq, data FROM audit_events WHERE run_id = ? AND type = 'approval.decided'`).get(runId) as { chain: string; chain_seq: number; data: string };
    db.prepare(`UPDATE audit_events SET data = ? WHERE run_id = ? AND type = 'approval.decided'`).run(target.data.replace('"bob"', '"mallory"'), runId);
    db.close();
    const tampered = await airlock('audit', 'verify');
    assert.equal(tampered.code, 1, tampered.out);
    assert.match(tampered.out, new RegExp(`TAMPERED \\(modified\\): ${target.chain} #${target.chain_seq} \\(`));
    const db2 = openSqliteDatabase(auditDb());
    db2.prepare(`UPDATE audit_events SET data = ? WHERE run_id = ? AND type = 'approval.decided'`).run(target.data, runId);
    db2.close();
    assert.equal((await airlock('audit', 'verify')).code, 0);
  });

  test('when the audit store refuses writes, the approved tool call does not run; the trail catches up after', async () => {
    const id = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 505 });
    const waiting = await s.waitForRun(id, (v) => v.status === 'awaiting_approval');
    const db = openSqliteDatabase(auditDb());
    db.exec(`CREATE TRIGGER audit_disk_full BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full'); END;`);
    try {
      const res = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
      assert.equal(res.status, 200);
      const failed = await s.waitForRun(id, (v) => v.status === 'failed');
      assert.deepEqual(s.refunds(id), [], 'no refund without an audit record');
      const step = failed.steps.find((x) => x.tool === 'billing.issue_refund')!;
      assert.equal(step.status, 'failed');
      assert.match(step.error!, /audit store \(sqlite\) refused the write: disk full; the tool was not called/);
    } finally {
      db.exec('DROP TRIGGER audit_disk_full');
      db.close();
    }
    // Nothing was skipped: the vote, the refused call and the run's end are written once the store is back.
    const records = await waitFor(
      () => runAudit(s, id),
      (r) => r.at(-1)?.type === 'run.failed',
      90_000,
      'run.failed recorded',
    );
    assert.equal(countOf(records, 'approval.decided'), 1);
    assert.equal(
      countOf(records, 'tool.executed', (r) => r.tool === 'issue_refund' && r.outcome === 'failed'),
      1,
    );
  });
});

describe('audit trail on PostgreSQL', () => {
  let s: TestStack;
  const schema = `audit_it_${Date.now().toString(36)}`;
  before(async () => {
    s = await startTestStack({ env: { AIRLOCK_AUDIT_DATABASE_URL: PG_URL, AIRLOCK_AUDIT_SCHEMA: schema } });
  });
  after(async () => {
    await s?.cleanup();
  });

  test('a rejected run is recorded in PostgreSQL, the configured field is masked, and verify catches an edit there', async () => {
    const runId = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 505 });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const res = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'reject', comment: 'not a duplicate' } });
    assert.equal(res.status, 200);
    const done = await s.waitForRun(runId, (v) => v.status === 'rejected');
    await waitFor(
      () => runAudit(s, runId),
      (r) => r.at(-1)?.type === 'run.rejected',
      15_000,
      'run.rejected recorded',
    );
    const records = await assertAuditStory(s, done);
    const proposed = records.find((r) => r.type === 'tool.proposed' && r.tool === 'issue_refund')!;
    assert.equal((proposed.data.args as { reason: string }).reason, '[REDACTED]', 'audit.redact billing.issue_refund: [reason]');

    const pg = new (await import('pg')).default.Client({ connectionString: PG_URL });
    await pg.connect();
    try {
      const { rows } = await pg.query(`SELECT count(*)::int AS n FROM ${schema}.audit_events WHERE run_id = $1`, [runId]);
      assert.equal(rows[0].n, records.length, 'the records live in PostgreSQL');
      assert.equal((await airlockCli(s.env, 'audit', 'verify')).code, 0);
      await pg.query(`DELETE FROM ${schema}.audit_events WHERE run_id = $1 AND type = 'approval.decided'`, [runId]);
      const v = await airlockCli(s.env, 'audit', 'verify');
      assert.equal(v.code, 1, v.out);
      assert.match(v.out, new RegExp(`TAMPERED \\(deleted\\): run:${runId} #\\d+ deleted`));
    } finally {
      await pg.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
      await pg.end();
    }
  });
});
