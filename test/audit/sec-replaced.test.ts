// A replaced or removed audit database is detected before each write, and the write is refused (the
// activity's retryable AuditUnavailable), instead of going on through the old handle or into a new, empty trail.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { createAuditWriter } from '../../activities/audit.js';
import { AuditStoreReplaced } from '../../src/audit/index.js';
import { PostgresAuditStore } from '../../src/audit/postgres.js';
import { Redactor } from '../../src/audit/redact.js';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import type { AuditEventInput, AuditStore } from '../../src/audit/types.js';
import { createLogger } from '../../src/log/logger.js';
import { PG_URL } from './helpers.js';

const ev = (n: number): AuditEventInput => ({
  eventId: `run:r/e${n}-${randomBytes(4).toString('hex')}`,
  chain: 'run:r',
  type: 'tool.executed',
  at: new Date(Date.UTC(2026, 10, 26, 10, 0, n)).toISOString(),
  runId: 'r',
  outcome: 'success',
  data: { step: n },
});

/** A logger whose lines the test reads. */
function logLines() {
  const lines: Array<{ level: number; msg: string; err?: string }> = [];
  return { lines, log: createLogger('info', 'sec-test', { write: (l: string) => void lines.push(JSON.parse(l)) }) };
}

const opened: AuditStore[] = [];
after(async () => {
  for (const s of opened) await s.close().catch(() => {});
});

describe('SQLite audit store: the file it writes is the file it opened', () => {
  const sqlite = () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-sec-audit-'));
    const file = join(dir, 'audit.db');
    const { lines, log } = logLines();
    const store = new SqliteAuditStore(file, join(dir, 'anchors.jsonl'), { log });
    opened.push(store);
    return { dir, file, store, lines };
  };
  const sidecars = (file: string) => [file, `${file}-wal`, `${file}-shm`];

  test('deleted and recreated: writes are refused and logged once; nothing reaches either file', async () => {
    const { file, store, lines } = sqlite();
    await store.append([ev(1)]);
    for (const f of sidecars(file)) rmSync(f, { force: true });
    const impostor = new SqliteAuditStore(file); // another process opens the path and creates a new database
    opened.push(impostor);

    await assert.rejects(store.append([ev(2)]), (err: Error) => err instanceof AuditStoreReplaced && /audit\.db was replaced by another file/.test(err.message));
    await assert.rejects(store.append([ev(3)]), AuditStoreReplaced);
    await assert.rejects(store.anchor(), AuditStoreReplaced);
    assert.deepEqual(await impostor.allRecords(), []);
    assert.deepEqual(
      (await store.allRecords()).map((r) => r.chainSeq),
      [1],
      'the old handle took nothing more',
    );
    const errors = lines.filter((l) => l.level >= 50);
    assert.equal(errors.length, 1, JSON.stringify(lines));
    assert.match(errors[0]!.msg, /audit store replaced or removed: refusing every write/);
  });

  test('moved away: writes are refused; moved back: they go on, into the original file', async () => {
    const { file, store } = sqlite();
    await store.append([ev(1)]);
    for (const f of sidecars(file)) if (existsSync(f)) renameSync(f, `${f}.moved`);
    await assert.rejects(store.append([ev(2)]), /audit\.db was removed or moved away/);
    for (const f of sidecars(file)) if (existsSync(`${f}.moved`)) renameSync(`${f}.moved`, f);
    await store.append([ev(3)]);
    await store.close();
    const again = new SqliteAuditStore(file);
    opened.push(again);
    assert.deepEqual(
      (await again.allRecords()).map((r) => r.chainSeq),
      [1, 2],
    );
  });

  test('the audit writer turns the refusal into a retryable AuditUnavailable, so the governed call waits', async () => {
    const { file, store } = sqlite();
    rmSync(file);
    const writer = createAuditWriter({ audit: store, redactor: new Redactor({ fields: {}, secrets: [] }) });
    await assert.rejects(writer.write([ev(1)]), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'AuditUnavailable');
      assert.equal(err.nonRetryable, false);
      assert.match(err.message, /audit store \(sqlite\) refused the write: the audit database .* was removed or moved away/);
      return true;
    });
  });
});

describe('PostgreSQL audit store: the schema it writes is the schema it opened', () => {
  const admin = new pg.Client({ connectionString: PG_URL });
  const schemas: string[] = [];
  after(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
    await admin.end();
  });
  const postgres = async () => {
    if (!schemas.length) await admin.connect();
    const schema = `audit_sec_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    const { lines, log } = logLines();
    const store = await PostgresAuditStore.open(PG_URL, schema, undefined, { log });
    opened.push(store);
    await store.append([ev(1)]);
    return { schema, store, lines };
  };
  const count = async (schema: string) => Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.audit_events`)).rows[0].n);

  test('another store on the same schema shares its identity: both keep writing', async () => {
    const { schema, store } = await postgres();
    const other = await PostgresAuditStore.open(PG_URL, schema);
    opened.push(other);
    await other.append([ev(2)]);
    await store.append([ev(3)]);
    assert.equal(await count(schema), 3);
  });

  test('schema dropped: writes are refused and logged once', async () => {
    const { schema, store, lines } = await postgres();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await assert.rejects(store.append([ev(2)]), (err: Error) => err instanceof AuditStoreReplaced && /was dropped/.test(err.message));
    await assert.rejects(store.append([ev(3)]), AuditStoreReplaced);
    const errors = lines.filter((l) => l.level >= 50);
    assert.equal(errors.length, 1, JSON.stringify(lines));
    assert.equal(errors[0]!.msg.startsWith('audit store replaced or removed'), true);
  });

  test('schema dropped and recreated by another process: writes are refused, the new trail stays empty', async () => {
    const { schema, store } = await postgres();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    const recreated = await PostgresAuditStore.open(PG_URL, schema);
    opened.push(recreated);
    await assert.rejects(store.append([ev(2)]), /was dropped and recreated/);
    await assert.rejects(store.anchor(), AuditStoreReplaced);
    assert.equal(await count(schema), 0);
  });

  test('the events table dropped and recreated: writes are refused', async () => {
    const { schema, store } = await postgres();
    await admin.query(`DROP TABLE ${schema}.audit_events`);
    opened.push(await PostgresAuditStore.open(PG_URL, schema));
    await assert.rejects(store.append([ev(2)]), /was dropped and recreated \(or its tables were\)/);
    assert.equal(await count(schema), 0);
  });

  test('the identity row deleted: writes are refused', async () => {
    const { schema, store } = await postgres();
    await admin.query(`DELETE FROM ${schema}.audit_store`);
    await assert.rejects(store.append([ev(2)]), /lost its identity row/);
    assert.equal(await count(schema), 1);
  });
});
