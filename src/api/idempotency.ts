// Idempotency-Key bindings: the first request with a key binds it (per requester) to the hash of its body,
// in the shared database, so every API replica refuses the same key with another body, also after the run's
// workflow has left Temporal's retention.
import type { AirlockConfig } from '../config/load.js';
import { digestOf } from '../core/canonical.js';
import { lazySharedDb, openSharedDb } from '../store/sharedDb.js';

const DDL = `
CREATE TABLE IF NOT EXISTS {t}airlock_idempotency_keys (
  run_id TEXT PRIMARY KEY,
  requester TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT
)`;

/** The hash a key is bound to: the canonical JSON of what the run does (the requester is in the run id). */
export function requestHashOf(body: { agent: string; input: unknown; onBehalfOf?: string }): string {
  return digestOf({ agent: body.agent, input: body.input, onBehalfOf: body.onBehalfOf ?? null });
}

export class IdempotencyStore {
  private readonly db;

  constructor(config: Pick<AirlockConfig, 'audit' | 'dataDir'>) {
    this.db = lazySharedDb(() => openSharedDb(config, DDL));
  }

  /**
   * Binds the run id (derived from requester and key) to the request's hash unless it is bound already; returns
   * the bound hash, and whether a run was started under it (so a run Temporal has since deleted is never re-run).
   */
  async claim(runId: string, requester: string, requestHash: string): Promise<{ requestHash: string; started: boolean }> {
    const db = await this.db.get();
    await db.run('INSERT INTO {t}airlock_idempotency_keys (run_id, requester, request_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING', [
      runId,
      requester,
      requestHash,
      new Date().toISOString(),
    ]);
    const [row] = await db.all<{ request_hash: string; started_at: string | null }>('SELECT request_hash, started_at FROM {t}airlock_idempotency_keys WHERE run_id = ?', [runId]);
    return { requestHash: row!.request_hash, started: row!.started_at !== null };
  }

  /** Records that the run under this binding has started. */
  async started(runId: string): Promise<void> {
    const db = await this.db.get();
    await db.run('UPDATE {t}airlock_idempotency_keys SET started_at = ? WHERE run_id = ? AND started_at IS NULL', [new Date().toISOString(), runId]);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
