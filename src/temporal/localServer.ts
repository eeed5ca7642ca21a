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
    // The dev UI decrypts through the API's codec endpoint (a port chosen at listen time cannot be named here).
    codecEndpoint: config.api.port ? `http://${['0.0.0.0', '::'].includes(config.api.host) ? '127.0.0.1' : config.api.host}:${config.api.port}/codec` : undefined,
    log: (m) => log.info(m),
  });
}
