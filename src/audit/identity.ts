/*
 * Is the store still the one it opened? A SQLite file deleted, moved away or replaced while a process
 * runs keeps taking writes through the open handle, so the trail would go to a file nobody reads (or a
 * fresh chain would start in a new one). A PostgreSQL schema dropped and recreated (by any process that
 * opens the store) starts empty chains the same way. Before each write batch the store checks its
 * identity — the file's device and inode, or the random store id in the schema's `audit_store` row —
 * and refuses the write with an AuditError when it changed: the caller's AuditUnavailable, so the
 * governed call does not run. The check is cheap: one stat() per batch for SQLite, and a select sent in
 * the same round trip as BEGIN for PostgreSQL.
 */
import { statSync } from 'node:fs';
import type { Logger } from '../log/logger.js';
import { AuditError } from './types.js';

/** What a store may be told when it opens. */
export interface AuditStoreOptions {
  /** Where a refused write is logged (once per change of identity, at error level). */
  log?: Logger;
}

/** Thrown for every write while the store is not the one opened; retrying waits for an operator. */
export class AuditStoreReplaced extends AuditError {
  override name = 'AuditStoreReplaced';
}

/** Reports a changed identity once (and again if it changes back and then again), throwing on every refused write. */
export class IdentityAlarm {
  private raised = false;
  constructor(private readonly log?: Logger) {}

  fail(message: string, fields: Record<string, unknown>): never {
    if (!this.raised) {
      this.raised = true;
      this.log?.error({ ...fields, err: message }, 'audit store replaced or removed: refusing every write (fail closed) until the original store is back or the process restarts');
    }
    throw new AuditStoreReplaced(message);
  }

  clear(): void {
    this.raised = false;
  }
}

/** The device and inode of the SQLite file as opened; `check` refuses when the path holds another file, or none. */
export class FileIdentity {
  private readonly dev: number;
  private readonly ino: number;
  private readonly alarm: IdentityAlarm;

  constructor(
    private readonly path: string,
    log?: Logger,
  ) {
    const st = statSync(path);
    this.dev = st.dev;
    this.ino = st.ino;
    this.alarm = new IdentityAlarm(log);
  }

  check(): void {
    const st = statSync(this.path, { throwIfNoEntry: false });
    if (st && st.dev === this.dev && st.ino === this.ino) return this.alarm.clear();
    const what = st ? `replaced by another file (inode ${st.ino}, opened as ${this.ino})` : 'removed or moved away';
    this.alarm.fail(`the audit database ${this.path} was ${what} while this process had it open; writes are refused so nothing is recorded where no one will look`, {
      file: this.path,
    });
  }
}
