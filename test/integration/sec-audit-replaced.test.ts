// End to end: the audit database is swapped for a fresh one under a running worker. The approved refund
// must not run (its authorization cannot be recorded in the trail it belongs to); once the original file
// is back, the run's events are written there, and the impostor holds none.
import assert from 'node:assert/strict';
import { openSqliteDatabase } from '../../src/store/sqliteDriver.js';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PostgresAuditStore } from '../../src/audit/postgres.js';
import { PG_URL } from '../audit/helpers.js';
import { countOf, runAudit } from '../helpers/audit.js';
import { DEMO_INPUT, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

describe('audit database replaced under a running stack (SQLite)', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack();
  });
  after(async () => {
    await s?.cleanup();
  });

  test('the approved tool call does not run while the file is not the one opened; the trail catches up in the original', async () => {
    const file = join(s.dataDir, 'audit.db');
    const files = [file, `${file}-wal`, `${file}-shm`];
    const id = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 505 });
    const waiting = await s.waitForRun(id, (v) => v.status === 'awaiting_approval');

    // Moved away, and a new, empty database created in its place (as any process opening the path would).
    for (const f of files) if (existsSync(f)) renameSync(f, `${f}.moved`);
    const impostor = openSqliteDatabase(file);
    impostor.exec('CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, event_id TEXT)');
    try {
      const res = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
      assert.equal(res.status, 200);
      const failed = await s.waitForRun(id, (v) => v.status === 'failed');
      assert.deepEqual(s.refunds(id), [], 'no refund without an audit record');
      const step = failed.steps.find((x) => x.tool === 'billing.issue_refund')!;
      assert.equal(step.status, 'failed');
      assert.match(step.error!, /audit store \(sqlite\) refused the write: the audit database .*audit\.db was replaced by another file/);
      assert.equal((impostor.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n, 0, 'nothing went to the new file');
    } finally {
      impostor.close();
      for (const f of files) rmSync(f, { force: true });
      for (const f of files) if (existsSync(`${f}.moved`)) renameSync(`${f}.moved`, f);
    }

    // The original is back: the vote, the refused call and the run's end are written to it, once each.
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
    assert.ok(records.every((r) => typeof r.recordedAt === 'string'));
  });
});

describe('audit tables dropped and recreated under a running stack (PostgreSQL)', () => {
  let s: TestStack;
  const schema = `audit_sec_it_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  before(async () => {
    await admin.connect();
    s = await startTestStack({ env: { AIRLOCK_AUDIT_DATABASE_URL: PG_URL, AIRLOCK_AUDIT_SCHEMA: schema } });
  });
  after(async () => {
    await s?.cleanup();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
  });

  test('the approved tool call does not run, and nothing is written to the new, empty trail', async () => {
    const id = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 505 });
    const waiting = await s.waitForRun(id, (v) => v.status === 'awaiting_approval');
    // The audit tables (other stores share the schema) dropped; PostgreSQL may pick a DROP racing the worker as a deadlock victim, so until done.
    await waitFor(
      () => admin.query(`DROP TABLE ${schema}.audit_events, ${schema}.audit_heads, ${schema}.audit_anchors, ${schema}.audit_store`),
      () => true,
      30_000,
      'audit tables dropped',
    );
    // Any process opening the store (the CLI, a restarted API) creates them again, empty.
    const fresh = await PostgresAuditStore.open(PG_URL, schema);
    await fresh.close();

    const res = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(res.status, 200);
    const failed = await s.waitForRun(id, (v) => v.status === 'failed');
    assert.deepEqual(s.refunds(id), [], 'no refund without an audit record');
    const step = failed.steps.find((x) => x.tool === 'billing.issue_refund')!;
    assert.equal(step.status, 'failed');
    assert.match(step.error!, new RegExp(`audit store \\(postgres\\) refused the write: the audit schema ${schema} was dropped and recreated`));
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.audit_events`);
    assert.equal(rows[0].n, 0, 'nothing went to the new schema');
  });
});
