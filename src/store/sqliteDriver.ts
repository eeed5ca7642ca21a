import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * The one place that picks the SQLite driver; every `new Database(…)` goes through openSqliteDatabase.
 *
 * better-sqlite3 12 is built per Node ABI and aborts the process on Node 24 when a statement is
 * garbage-collected (`Assertion failed: (env) != nullptr` in node::RemoveEnvironmentCleanupHook from
 * Statement::~Statement). better-sqlite3 13 fixes that and ships one prebuilt Node-API binary for every
 * Node version, but it needs Node-API 10 (Node 22.14+) and crashes on Node 20. package.json therefore
 * installs both: `better-sqlite3` (12, for Node 20 and the LangGraph SQLite checkpointer) and
 * `better-sqlite3-napi` (an npm alias of 13). The API and the types are the same.
 * When Node 20 is dropped: make `better-sqlite3` 13, remove the alias and this choice.
 */
export const SQLITE_DRIVER = Number(process.versions.napi) >= 10 ? 'better-sqlite3-napi' : 'better-sqlite3';

const Driver = createRequire(import.meta.url)(SQLITE_DRIVER) as typeof BetterSqlite3;

/** `new Database(file, options)` of the driver that works on the running Node. */
export function openSqliteDatabase(file: string, options?: BetterSqlite3.Options): BetterSqlite3.Database {
  return new Driver(file, options);
}
