// Unauthenticated endpoints for load balancers, scrapers and clients: liveness, readiness, metrics, the OpenAPI document.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { Router } from 'express';
import { metricsHandler } from '../../observability/metrics.js';
import type { ApiDeps } from '../deps.js';
import { openApiDocument } from '../openapi.js';

const { temporal } = proto;

export function healthRoutes({ config, client, log }: Pick<ApiDeps, 'config' | 'client' | 'log'>): Router {
  const { namespace, taskQueue } = config.temporal;
  const r = Router();
  r.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  if (config.observability.metrics.enabled) r.get('/metrics', metricsHandler(client, log));
  r.get('/readyz', async (_req, res) => {
    const checks = await readiness(client, namespace, taskQueue);
    res.status(checks.temporal && checks.worker ? 200 : 503).json(checks);
  });
  r.get('/openapi.json', (req, res) => void res.json(openApiDocument(`${req.protocol}://${req.get('host')}`)));
  return r;
}

/** Ready when Temporal answers and a worker polls the task queue. */
export async function readiness(client: Client, namespace: string, taskQueue: string): Promise<{ temporal: boolean; worker: boolean }> {
  const out = { temporal: false, worker: false };
  try {
    const tq = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    out.temporal = true;
    out.worker = (tq.pollers ?? []).length > 0;
  } catch {
    /* not reachable */
  }
  return out;
}
