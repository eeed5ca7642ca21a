// Audit records carry `recordedAt`, the store's clock when it wrote them, covered by their hash; databases
// written before it existed are migrated in place and their old records still verify.
import assert from 'node:assert/strict';
import { openSqliteDatabase } from '../../src/store/sqliteDriver.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { chainRecord } from '../../src/audit/chain.js';
import { PostgresAuditStore } from '../../src/audit/postgres.js';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import type { AuditEventInput, AuditStore } from '../../src/audit/types.js';
import { verifyStore } from '../../src/cli/audit.js';
import { PG_URL, STORES } from './helpers.js';

const ev = (chain: string, n: number): AuditEventInput => ({
  eventId: `${chain}/e${n}`,
  chain,
  type: 'tool.executed',
  at: new Date(Date.UTC(2020, 0, 1, 10, 0, n)).toISOString(),
  runId: chain.replace(/^run:/, ''),
  principal: 'alice',
  outcome: 'success',
  data: { step: n },
});
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const opened: AuditStore[] = [];
after(async () => {
  for (const s of opened) await s.close().catch(() => {});
});

for (const kind of STORES) {
  describe(`recordedAt: ${kind.kind}`, () => {
    test('every new record carries the time it was written, as stored, exported and re-returned', async () => {
      const s = await kind.open();
      opened.push(s.store);
      const [written] = await s.store.append([ev('run:a', 1)]);
      assert.match(written!.recordedAt!, ISO);
      assert.notEqual(written!.recordedAt, written!.at, '`at` stays the event time');
      assert.ok(Date.parse(written!.recordedAt!) > Date.parse('2026-01-01'), 'the store clock, not the event time');
      const [queried] = await s.store.query({ runId: 'a', limit: 10 });
      assert.deepEqual(queried, written);
      assert.deepEqual(await s.store.append([ev('run:a', 1)]), [written], 'a retried write returns the stored time');
      assert.deepEqual((await verifyStore(s.store, s.anchorFile)).problems, []);
    });

    test('recordedAt is covered by the hash: changing or removing it is caught by verify', async () => {
      const s = await kind.open();
      opened.push(s.store);
      await s.store.append([ev('run:b', 1), ev('run:b', 2), ev('run:b', 3)]);
      await s.sql(`UPDATE audit_events SET recorded_at = $1 WHERE event_id = $2`, '2020-01-01T10:00:00.000Z', 'run:b/e2');
      await s.sql(`UPDATE audit_events SET recorded_at = NULL WHERE event_id = $1`, 'run:b/e3');
      const r = await verifyStore(s.store, s.anchorFile);
      assert.deepEqual(
        r.problems.map((p) => [p.kind, p.chainSeq]),
        [
          ['modified', 2],
          ['modified', 3],
        ],
      );
    });
  });
}

/** The tables as Airlock created them before recorded_at (and the PostgreSQL identity row) existed. */
const OLD_TABLES = (s: string, seq: string) => `
CREATE TABLE ${s}audit_events (
  seq ${seq}, event_id TEXT NOT NULL UNIQUE, chain TEXT NOT NULL, chain_seq INTEGER NOT NULL, prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL, at TEXT NOT NULL, type TEXT NOT NULL,
  run_id TEXT, principal TEXT, on_behalf_of TEXT, agent TEXT, server TEXT, tool TEXT, outcome TEXT, data TEXT NOT NULL);
CREATE TABLE ${s}audit_heads (chain TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL, anchored_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE ${s}audit_anchors (id INTEGER PRIMARY KEY, at TEXT NOT NULL, prev TEXT NOT NULL, heads TEXT NOT NULL, hash TEXT NOT NULL);`;

/** Two records of run:old as the old code chained and stored them (no recordedAt in the row or the hash). */
function oldRecords() {
  const r1 = chainRecord(ev('run:old', 1), undefined);
  const r2 = chainRecord(ev('run:old', 2), { seq: 1, hash: r1.hash });
  assert.equal(r1.recordedAt, undefined);
  return [r1, r2].map((r) => [r.eventId, r.chain, r.chainSeq, r.prevHash, r.hash, r.at, r.type, r.runId, r.principal, r.outcome, JSON.stringify(r.data)]);
}
const INSERT_OLD = (s: string, p: (i: number) => string) =>
  `INSERT INTO ${s}audit_events (event_id, chain, chain_seq, prev_hash, hash, at, type, run_id, principal, outcome, data) VALUES (${Array.from({ length: 11 }, (_, i) => p(i + 1)).join(',')})`;

/** After the migration: the old records verify, keep no recordedAt, and new records chain on and carry one. */
async function assertMigrated(store: AuditStore, anchorFile: string): Promise<void> {
  const before = await store.allRecords();
  assert.deepEqual(
    before.map((r) => [r.chainSeq, r.recordedAt]),
    [
      [1, undefined],
      [2, undefined],
    ],
  );
  assert.deepEqual((await verifyStore(store, anchorFile)).problems, []);
  const [added] = await store.append([ev('run:old', 3)]);
  assert.equal(added!.chainSeq, 3);
  assert.equal(added!.prevHash, before[1]!.hash);
  assert.match(added!.recordedAt!, ISO);
  assert.ok(await store.anchor());
  const r = await verifyStore(store, anchorFile);
  assert.deepEqual(r.problems, []);
  assert.equal(r.records, 3);
}

describe('recordedAt: databases written before it existed', () => {
  test('SQLite: the column is added on open, old records verify, new ones chain on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-sec-audit-'));
    const file = join(dir, 'audit.db');
    const db = openSqliteDatabase(file);
    db.exec(OLD_TABLES('', 'INTEGER PRIMARY KEY AUTOINCREMENT'));
    for (const row of oldRecords()) db.prepare(INSERT_OLD('', () => '?')).run(...row);
    const [, last] = oldRecords();
    db.prepare('INSERT INTO audit_heads (chain, seq, hash) VALUES (?, ?, ?)').run('run:old', 2, last![4]);
    db.close();
    const store = new SqliteAuditStore(file, join(dir, 'anchors.jsonl'));
    opened.push(store);
    await assertMigrated(store, join(dir, 'anchors.jsonl'));
    opened.push(new SqliteAuditStore(file), new SqliteAuditStore(file)); // reopening migrates nothing twice
  });

  test('PostgreSQL: the column and the identity row are added on open, old records verify, new ones chain on', async () => {
    const schema = `audit_sec_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA ${schema}; ${OLD_TABLES(`${schema}.`, 'BIGSERIAL PRIMARY KEY')}`);
      for (const row of oldRecords())
        await admin.query(
          INSERT_OLD(`${schema}.`, (i) => `$${i}`),
          row,
        );
      const [, last] = oldRecords();
      await admin.query(`INSERT INTO ${schema}.audit_heads (chain, seq, hash) VALUES ($1, $2, $3)`, ['run:old', 2, last![4]]);
      const dir = mkdtempSync(join(tmpdir(), 'airlock-sec-audit-'));
      const store = await PostgresAuditStore.open(PG_URL, schema, join(dir, 'anchors.jsonl'));
      opened.push(store);
      await assertMigrated(store, join(dir, 'anchors.jsonl'));
      opened.push(await PostgresAuditStore.open(PG_URL, schema));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await admin.end();
    }
  });
});
