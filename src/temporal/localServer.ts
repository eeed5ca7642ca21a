import { join } from 'node:path';
import { temporalCli } from './binary.js';
import { startDevServer, type DevServer } from './devserver.js';
import type { AirlockConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';

/** The local Temporal dev server `airlock start` runs when no `temporal.address` is configured. */
export function startLocalDevServer(config: AirlockConfig, log: Logger): Promise<DevServer> {
  const d = config.temporal.devServer;
  return startDevServer({
    cli: temporalCli({ root: config.root, configured: config.temporal.cli, env: config.env, log: (m) => log.info(m) }),
    ip: d.ip,
    port: d.port,
    uiPort: d.uiPort,
    dbFile: join(config.dataDir, d.dbFile),
    namespace: config.temporal.namespace,
    log: (m) => log.info(m),
  });
}
