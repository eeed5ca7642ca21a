// Unauthenticated endpoints for load balancers, scrapers and clients: liveness, readiness, metrics, the OpenAPI document.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { Router } from 'express';
import { metricsHandler } from '../../observability/metrics.js';
import type { HeartbeatReader } from '../../worker/heartbeat.js';
import type { ApiDeps } from '../deps.js';
import { openApiDocument } from '../openapi/index.js';

const { temporal } = proto;

/**
 * A poller seen this recently counts as a live worker (when workers write no heartbeats). A live idle worker
 * re-polls at least once a minute (Temporal's long-poll timeout); Temporal lists a dead one for minutes.
 */
const POLLER_FRESH_MS = 90_000;

/** A protobuf Timestamp (seconds as a Long or a number) in ms since the epoch. */
const msOf = (ts: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined): number | undefined =>
  ts?.seconds == null ? undefined : Number(ts.seconds.toString()) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);

export function healthRoutes({ config, client, log, heartbeats }: Pick<ApiDeps, 'config' | 'client' | 'log' | 'heartbeats'>): Router {
  const { namespace, taskQueue } = config.temporal;
  const r = Router();
  r.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  if (config.observability.metrics.enabled) r.get('/metrics', metricsHandler(client, log));
  r.get('/readyz', async (_req, res) => {
    const checks = await readiness(client, namespace, taskQueue, heartbeats);
    res.status(checks.temporal && checks.worker ? 200 : 503).json(checks);
  });
  // A relative server URL: the document never repeats the request's Host header (nor trusts it).
  const doc = openApiDocument({ serverUrl: '/', metrics: config.observability.metrics.enabled });
  r.get('/openapi.json', (_req, res) => void res.json(doc));
  return r;
}

/**
 * Ready when Temporal answers and a worker is alive. Workers that write heartbeats (src/worker/heartbeat.ts)
 * count while one beat within seconds; without any heartbeat for the task queue, a worker that polled it in
 * the last 90 s counts (Temporal lists pollers for minutes after a worker dies).
 */
export async function readiness(client: Client, namespace: string, taskQueue: string, heartbeats?: Pick<HeartbeatReader, 'liveWorker'>): Promise<{ temporal: boolean; worker: boolean }> {
  const out = { temporal: false, worker: false };
  try {
    const tq = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    out.temporal = true;
    const now = Date.now();
    out.worker = (tq.pollers ?? []).some((p) => now - (msOf(p.lastAccessTime) ?? now) <= POLLER_FRESH_MS);
  } catch {
    /* not reachable */
  }
  if (heartbeats) {
    try {
      const live = await heartbeats.liveWorker();
      if (live !== undefined) out.worker = live;
    } catch {
      /* heartbeats unreadable: keep the poller answer */
    }
  }
  return out;
}
