// Worker heartbeats: each worker writes a row every couple of seconds to the shared database, and readiness
// (GET /readyz) counts a worker alive only while its row is fresh. Temporal's own poller list keeps a dead
// worker for minutes; a heartbeat goes stale within seconds.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AirlockConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { lazySharedDb, openSharedDb } from '../store/sharedDb.js';

export const HEARTBEAT_EVERY_MS = 2_000;
/** A worker whose last beat is older than this is taken for dead. */
export const HEARTBEAT_STALE_MS = 10_000;
/** Rows of workers gone for this long are removed. */
const PRUNE_AFTER_MS = 24 * 3_600_000;

const DDL = `
CREATE TABLE IF NOT EXISTS {t}airlock_worker_heartbeats (
  worker_id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  task_queue TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  beat_at BIGINT NOT NULL
)`;

type Config = Pick<AirlockConfig, 'audit' | 'dataDir' | 'temporal'>;

export interface WorkerHeartbeat {
  readonly workerId: string;
  /** Stops beating; the row is left to go stale (readiness then reports no live worker). */
  stop(): Promise<void>;
}

/**
 * Starts beating for a worker of the configured task queue. Given the Temporal `Worker`, it beats only while
 * the worker is RUNNING and stops by itself once the worker has stopped, so one call after `Worker.create`
 * is all a worker needs.
 */
export function startWorkerHeartbeat(opts: { config: Config; worker?: { getState(): string }; log?: Logger; intervalMs?: number }): WorkerHeartbeat {
  const { config, worker, log } = opts;
  const { namespace, taskQueue } = config.temporal;
  const workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const db = lazySharedDb(() => openSharedDb(config, DDL));
  let stopped = false;
  let beating: Promise<void> = Promise.resolve();
  let failing = false;

  const beat = async () => {
    const state = worker?.getState();
    if (state === 'STOPPED' || state === 'FAILED') return void stop();
    if (state !== undefined && state !== 'RUNNING') return;
    try {
      const d = await db.get();
      const now = Date.now();
      await d.run(
        `INSERT INTO {t}airlock_worker_heartbeats (worker_id, namespace, task_queue, host, pid, beat_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (worker_id) DO UPDATE SET beat_at = excluded.beat_at`,
        [workerId, namespace, taskQueue, hostname(), process.pid, now],
      );
      await d.run('DELETE FROM {t}airlock_worker_heartbeats WHERE beat_at < ?', [now - PRUNE_AFTER_MS]);
      if (failing) log?.info('worker heartbeat recovered');
      failing = false;
    } catch (err) {
      if (!failing) log?.warn({ err: (err as Error).message }, 'worker heartbeat failed; readiness reports this worker dead until it recovers');
      failing = true;
    }
  };
  const timer = setInterval(() => {
    if (!stopped) beating = beating.then(beat);
  }, opts.intervalMs ?? HEARTBEAT_EVERY_MS);
  timer.unref();
  beating = beating.then(beat);

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    await beating.catch(() => {});
    await db.close();
  }
  return { workerId, stop };
}

/** Reads heartbeats for readiness. */
export class HeartbeatReader {
  private readonly db;

  constructor(private readonly config: Config) {
    this.db = lazySharedDb(() => openSharedDb(config, DDL));
  }

  /**
   * Whether a worker of the task queue beat within HEARTBEAT_STALE_MS; undefined when no worker of it has
   * ever written a heartbeat (workers that do not beat: readiness then relies on Temporal's poller list).
   */
  async liveWorker(now = Date.now()): Promise<boolean | undefined> {
    const { namespace, taskQueue } = this.config.temporal;
    const d = await this.db.get();
    const [row] = await d.all<{ n: number | string; last: number | string | null }>(
      'SELECT COUNT(*) AS n, MAX(beat_at) AS last FROM {t}airlock_worker_heartbeats WHERE namespace = ? AND task_queue = ?',
      [namespace, taskQueue],
    );
    if (!row || Number(row.n) === 0) return undefined;
    return now - Number(row.last) <= HEARTBEAT_STALE_MS;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
