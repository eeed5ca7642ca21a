import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities/index.js';
import type { AuditStore } from '../audit/types.js';
import type { AirlockConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { createPlanners } from '../models/index.js';
import { PolicySource } from '../policy/source.js';
import { defaultSecretSource } from '../registry/credentials.js';
import { LockStore } from '../registry/lock.js';
import { registryStatusFile, StatusStore } from '../registry/status.js';
import { McpPool } from '../registry/pool.js';
import { activityMetricsInterceptors } from '../observability/activityMetrics.js';
import { tracingActivityInterceptors, workflowTracingSinks } from '../observability/tracing.js';
import { workflowBundle } from './bundle.js';
import { createRedactor, openAuditStore } from '../audit/index.js';
import { RegistryAudit } from '../audit/registry.js';
import { BlobStore } from '../blobs/store.js';
import { join } from 'node:path';
import { temporalDataConverter } from '../temporal/codec.js';
import { startWorkerHeartbeat } from './heartbeat.js';

export interface AirlockWorker {
  worker: Worker;
  pool: McpPool;
  /** Runs until shutdown() (or a signal); resolves when drained. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface WorkerParts {
  activities: Activities;
  pool: McpPool;
  policies: PolicySource;
  audit: AuditStore;
  close(): Promise<void>;
}

/** The activities and what they depend on, as every worker builds them (also used by `npm run bench`). */
export async function createWorkerParts(config: AirlockConfig, log: Logger): Promise<WorkerParts> {
  const lock = new LockStore(config.registry.lockFile);
  // No audit store, no worker: nothing runs unrecorded.
  const audit = await openAuditStore(config, { log: log.child({ component: 'audit' }) });
  const registryEvents = new RegistryAudit(audit, log);
  const pool = new McpPool(
    config.servers,
    log.child({ component: 'mcp' }),
    {
      lock,
      requirePins: config.registry.requirePins,
      status: new StatusStore(registryStatusFile(config)),
      onDrift: (server, detail) => registryEvents.drift(server, detail),
    },
    { secrets: defaultSecretSource(config.env), allowedHosts: config.registry.allowedHosts },
  );
  // LangChain would send every prompt and tool result to LangSmith when these are set: not from here.
  for (const v of ['LANGSMITH_TRACING', 'LANGCHAIN_TRACING_V2', 'LANGCHAIN_TRACING']) {
    if (process.env[v]) {
      log.warn({ variable: v }, 'LangChain tracing to LangSmith is switched off in Airlock workers: it would export prompts and tool results');
      delete process.env[v];
    }
  }
  const policies = new PolicySource(config.policy.dir);
  log.info({ dir: config.policy.dir, version: (policies.current() as { version: string }).version }, 'policies loaded');
  const activities = createActivities({ config, pool, planners: createPlanners(config), policies, audit, redactor: createRedactor(config), blobs: new BlobStore(join(config.dataDir, 'blobs')) });
  return {
    activities,
    pool,
    policies,
    audit,
    close: async () => {
      await pool.close();
      await audit.close();
    },
  };
}

export async function createWorker(config: AirlockConfig, connection: NativeConnection, log: Logger): Promise<AirlockWorker> {
  // First: a broken agent module (agents.<name>.graph) stops the start before any store or MCP server is opened.
  const bundle = await workflowBundle(config);
  const { activities, pool, audit } = await createWorkerParts(config, log);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: bundle,
    activities,
    // Encrypts every payload the worker sends to Temporal (results, commands, memo) and decrypts what it receives.
    dataConverter: temporalDataConverter(config),
    // Spans (when tracing exports) and tool-call / policy / MCP-error metrics, outside the activity code.
    interceptors: { activity: [tracingActivityInterceptors, activityMetricsInterceptors] },
    sinks: workflowTracingSinks(),
    shutdownGraceTime: '10s',
    // LangGraph makes workflow tasks CPU-heavy (the sandbox records a stack for every promise), and
    // each cached run holds several MB: more threads, and a bounded cache (see bench/README.md).
    workflowThreadPoolSize: config.temporal.worker.workflowThreads,
    maxCachedWorkflows: config.temporal.worker.maxCachedWorkflows,
  });
  // Readiness sees this worker only while it beats (a dead worker drops out of /readyz within seconds).
  startWorkerHeartbeat({ config, worker, log: log.child({ component: 'heartbeat' }) });
  // Anchor the chain heads periodically, and once more on the way out.
  const anchor = () => audit.anchor().catch((err: Error) => log.error({ err: err.message }, 'audit anchoring failed'));
  const anchoring = setInterval(anchor, config.audit.anchorEvery);
  anchoring.unref();
  let running: Promise<void> | undefined;
  return {
    worker,
    pool,
    run() {
      running ??= worker.run().finally(async () => {
        clearInterval(anchoring);
        await pool.close();
        await anchor();
        await audit.close();
      });
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
