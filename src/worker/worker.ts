import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import type { AirlockConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { createPlanners } from '../models/index.js';
import { PolicySource } from '../policy/source.js';
import { defaultSecretSource } from '../registry/credentials.js';
import { LockStore } from '../registry/lock.js';
import { registryStatusFile, StatusStore } from '../registry/status.js';
import { McpPool } from '../registry/pool.js';
import { workflowBundle } from './bundle.js';

export interface AirlockWorker {
  worker: Worker;
  pool: McpPool;
  /** Runs until shutdown() (or a signal); resolves when drained. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

export async function createWorker(config: AirlockConfig, connection: NativeConnection, log: Logger): Promise<AirlockWorker> {
  const lock = new LockStore(config.registry.lockFile);
  const pool = new McpPool(config.servers, log.child({ component: 'mcp' }), { lock, requirePins: config.registry.requirePins, status: new StatusStore(registryStatusFile(config)) }, {
    secrets: defaultSecretSource(config.env),
    allowedHosts: config.registry.allowedHosts,
  });
  const policies = new PolicySource(config.policy.dir);
  log.info({ dir: config.policy.dir, version: (policies.current() as { version: string }).version }, 'policies loaded');
  const activities = createActivities({ config, pool, planners: createPlanners(config), policies });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    shutdownGraceTime: '10s',
  });
  let running: Promise<void> | undefined;
  return {
    worker,
    pool,
    run() {
      running ??= worker.run().finally(() => pool.close());
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
