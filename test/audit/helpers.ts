// Both audit stores, real: a SQLite file in a temp dir, and a fresh schema in the local PostgreSQL.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PostgresAuditStore } from '../../src/audit/postgres.js';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import type { AuditStore } from '../../src/audit/types.js';

export const PG_URL = process.env.AIRLOCK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface StoreUnderTest {
  store: AuditStore;
  anchorFile: string;
  /** Runs raw SQL against the store's tables (table names without schema), for tampering. */
  sql(statement: string, ...params: unknown[]): Promise<void>;
  reopen(): Promise<AuditStore>;
}

export const STORES: Array<{ kind: 'sqlite' | 'postgres'; open(): Promise<StoreUnderTest> }> = [
  {
    kind: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'airlock-audit-'));
      const file = join(dir, 'audit.db');
      const anchorFile = join(dir, 'anchors.jsonl');
      const store = new SqliteAuditStore(file, anchorFile);
      return {
        store,
        anchorFile,
        async sql(statement, ...params) {
          store.database.prepare(statement.replace(/\$\d+/g, '?')).run(...params);
        },
        async reopen() {
          return new SqliteAuditStore(file, anchorFile);
        },
      };
    },
  },
  {
    kind: 'postgres',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'airlock-audit-'));
      const anchorFile = join(dir, 'anchors.jsonl');
      const schema = `audit_test_${randomBytes(6).toString('hex')}`;
      const store = await PostgresAuditStore.open(PG_URL, schema, anchorFile);
      return {
        store,
        anchorFile,
        async sql(statement, ...params) {
          await store.client.query(statement.replace(/\b(audit_events|audit_heads|audit_anchors)\b/g, `${schema}.$1`), params);
        },
        async reopen() {
          return PostgresAuditStore.open(PG_URL, schema, anchorFile);
        },
      };
    },
  },
];
