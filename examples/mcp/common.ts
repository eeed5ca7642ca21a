// Shared plumbing for the demo MCP servers: SQLite access, tool results, annotations, ids.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqliteDatabase } from '../../src/store/sqliteDriver.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export type Db = Database.Database;

/** Bump when a schema or seed changes incompatibly; existing files are then reported, not silently reused. */
const DATA_VERSION = 1;

/**
 * Opens (creating it and its directory if needed) a SQLite file that several processes may share: WAL journal,
 * a 5 s busy timeout and enforced foreign keys. On first open, `schema` is applied and `seed`
 * runs, both in one IMMEDIATE transaction so concurrent first opens cannot seed twice.
 */
export function openDatabase(path: string, schema: string, seed: (db: Db) => void): Db {
  // The file usually lives under Airlock's data dir, which may not exist yet when a system starts first.
  mkdirSync(dirname(path), { recursive: true });
  const db = openSqliteDatabase(path);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version === DATA_VERSION) return;
      if (version !== 0) throw new Error(`${path}: data version ${version}, expected ${DATA_VERSION}`);
      db.exec(schema);
      seed(db);
      db.pragma(`user_version = ${DATA_VERSION}`);
    }).immediate();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Runs `fn` in an IMMEDIATE transaction: the write lock is taken up front, so check-then-write is atomic across processes. */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/**
 * The next id in a sequence such as T-5001, T-5002: one more than the largest number in use,
 * or `first` for an empty table. Call it inside `writeTransaction`.
 */
export function nextId(db: Db, table: string, column: string, prefix: string, first: number): string {
  const row = db.prepare(`SELECT MAX(CAST(substr(${column}, ?) AS INTEGER)) AS n FROM ${table} WHERE ${column} LIKE ?`).get(prefix.length + 1, `${prefix}%`) as { n: number | null };
  return `${prefix}${row.n === null ? first : row.n + 1}`;
}

export const nowIso = (): string => new Date().toISOString();

/** `'a', 'b'` for an SQL `IN (...)` or `CHECK` list built from constant values (never from input). */
export const sqlList = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

/** A successful tool result: the value as JSON text (for plain clients) and as structured content. */
export function jsonResult<T extends Record<string, unknown>>(value: T): CallToolResult & { structuredContent: T } {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/** A business failure (not found, not allowed, conflict): a tool result the model can read, not a protocol error. */
export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** A tool that only reads its own system's data. */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** A tool that changes data; state whether the change is destructive and whether repeating the call is harmless. */
export function writes(o: { destructive: boolean; idempotent: boolean }): ToolAnnotations {
  return { readOnlyHint: false, destructiveHint: o.destructive, idempotentHint: o.idempotent, openWorldHint: false };
}

/** A customer account id as the CRM issues them; the other systems refer to accounts by it. */
export const AccountId = z
  .string()
  .regex(/^C-\d+$/)
  .describe('Customer account id, e.g. "C-1001"');
