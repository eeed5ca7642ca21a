// The baseline worker: plain activities calling MCP tools through a connection pool, nothing else.
// Run as its own process (so its memory is measured alone): node --import tsx bench/bareWorker.ts
import { NativeConnection, Worker } from '@temporalio/worker';
import { join } from 'node:path';
import { loadConfig, ROOT } from '../src/config/load.js';
import { createLogger } from '../src/log/logger.js';
import { McpPool } from '../src/registry/pool.js';
import { temporalDataConverter } from '../src/temporal/codec.js';

export const BARE_TASK_QUEUE = 'bench-bare';

export function createBareActivities(pool: McpPool) {
  return {
    async mcpCall({ server, tool, args }: { server: string; tool: string; args: Record<string, unknown> }): Promise<void> {
      const res = await pool.callTool(server, tool, args);
      if (res.isError) throw new Error(`${server}.${tool} failed`);
    },
  };
}
export type BareActivities = ReturnType<typeof createBareActivities>;

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = loadConfig();
  const pool = new McpPool(config.servers, createLogger('warn'));
  const connection = await NativeConnection.connect({ address: config.temporal.address! });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: BARE_TASK_QUEUE,
    workflowsPath: join(ROOT, 'bench', 'workflows', 'bare.ts'),
    activities: createBareActivities(pool),
    // The same payload encryption as the Airlock worker (the bench client encrypts for both), so it cancels out.
    dataConverter: temporalDataConverter(config),
  });
  process.on('SIGTERM', () => worker.shutdown());
  process.stdout.write('ready\n');
  await worker.run();
  await pool.close();
  await connection.close();
}
