// Small tables every API replica and worker share, kept in the audit database: the SQLite file under the data
// dir by default, PostgreSQL (in the audit schema) when `audit.databaseUrl` is set. Token revocations, the
// Idempotency-Key bindings and worker heartbeats live here. Statements use `?` placeholders and `{t}` for
// the table prefix (the schema on PostgreSQL), so each store writes its SQL once.
import { openSqliteDatabase } from './sqliteDriver.js';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AirlockConfig } from '../config/load.js';
import { openPgSchema } from './pgSetup.js';

export interface SharedDb {
  readonly kind: 'sqlite' | 'postgres';
  /** Rows of a query. */
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

/** Opens the shared database and creates `ddl`'s tables (`CREATE TABLE IF NOT EXISTS {t}name …`; statements separated by `;`). */
export async function openSharedDb(config: Pick<AirlockConfig, 'audit' | 'dataDir'>, ddl: string): Promise<SharedDb> {
  if (config.audit.databaseUrl) return openPostgres(config.audit.databaseUrl, config.audit.schema, ddl);
  // The audit store's own file (src/audit/index.ts `auditPaths`).
  return openSqlite(resolve(config.dataDir, config.audit.file), ddl);
}

function openSqlite(file: string, ddl: string): SharedDb {
  mkdirSync(dirname(file), { recursive: true });
  const db = openSqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const sql = (s: string) => s.replaceAll('{t}', '');
  db.exec(sql(ddl));
  return {
    kind: 'sqlite',
    all: async <T>(s: string, params: unknown[] = []) => db.prepare(sql(s)).all(...params) as T[],
    run: async (s: string, params: unknown[] = []) => db.prepare(sql(s)).run(...params).changes,
    close: async () => void db.close(),
  };
}

async function openPostgres(url: string, schema: string, ddl: string): Promise<SharedDb> {
  const sql = (s: string) => {
    let i = 0;
    return s.replaceAll('{t}', `${schema}.`).replace(/\?/g, () => `$${++i}`);
  };
  const { pool } = await openPgSchema(url, schema, 'airlock-shared-tables', async (c) => {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await c.query(sql(ddl));
  });
  return {
    kind: 'postgres',
    all: async <T>(s: string, params: unknown[] = []) => (await pool.query(sql(s), params)).rows as T[],
    run: async (s: string, params: unknown[] = []) => (await pool.query(sql(s), params)).rowCount ?? 0,
    close: () => pool.end(),
  };
}

/** A database opened on first use (start-up stays synchronous), closed once. */
export function lazySharedDb(open: () => Promise<SharedDb>): { get(): Promise<SharedDb>; close(): Promise<void> } {
  let db: Promise<SharedDb> | undefined;
  return {
    get() {
      db ??= open().catch((err: unknown) => {
        db = undefined; // try again on the next request
        throw err;
      });
      return db;
    },
    async close() {
      const d = db;
      db = undefined;
      await (await d?.catch(() => undefined))?.close();
    },
  };
}
