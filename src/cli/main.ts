import { Command } from 'commander';
import { temporalCli, temporalTestServer } from '../temporal/binary.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { PolicyError } from '../policy/engine.js';
import { LockError } from '../registry/lock.js';
import { DEMO_USERS } from '../identity/users.js';
import { createLogger } from '../log/logger.js';
import type { StackParts, startStack as StartStack } from '../stack.js';
import { startLocalDevServer } from '../temporal/localServer.js';
import { auditCommands } from './audit.js';
import { registerReadiness } from './readiness.js';
import { registryCommands } from './registry.js';
import { registerReplay } from './replay.js';
import { registerToken } from './token.js';

const program = new Command('airlock')
  .description('Durable, governed runtime for AI agents acting through MCP')
  .option('-c, --config <file>', 'config file (default: $AIRLOCK_CONFIG or examples/airlock.yaml)');

function config() {
  return loadConfig({ file: program.opts<{ config?: string }>().config });
}

async function serve(parts: StackParts, banner: boolean) {
  const cfg = config();
  const log = createLogger(cfg.logLevel);
  // The dev server takes over a second to come up: start it first, and load the rest of Airlock
  // (the worker, the model providers, the API: most of start-up's CPU) while it does.
  const devServer = parts.temporal !== false && !cfg.temporal.address ? startLocalDevServer(cfg, log) : undefined;
  devServer?.catch(() => {}); // reported where the stack awaits it
  let startStack: typeof StartStack;
  try {
    ({ startStack } = await import('../stack.js'));
  } catch (err) {
    await (await devServer?.catch(() => undefined))?.stop();
    throw err;
  }
  const stack = await startStack(cfg, log, { ...parts, devServer });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await stack.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  if (banner && cfg.identity.issuer === 'dev') {
    const tokens = await Promise.all(['alice', 'bob'].map(async (u) => `  ${u.padEnd(6)} ${await stack.issuer.mint(u)}`));
    process.stderr.write(
      [
        '',
        'Airlock is running.',
        `  API          ${stack.apiUrl ?? '(not started)'}   (OpenAPI: ${stack.apiUrl}/openapi.json)`,
        `  Temporal     ${stack.temporalAddress}${stack.temporalUi ? `   UI: ${stack.temporalUi}` : ''}`,
        `  Data dir     ${cfg.dataDir}`,
        `  Agents       ${Object.keys(cfg.agents).join(', ')}`,
        'Demo tokens (`npx airlock token <user>` prints more; users: ' + Object.keys(DEMO_USERS).join(', ') + '):',
        ...tokens,
        'Ctrl-C stops everything; runs and pending approvals survive a restart.',
        '',
      ].join('\n') + '\n',
    );
  }
}

program
  .command('start')
  .description('run Temporal (dev server unless temporal.address is set), demo MCP servers, worker and API')
  .action(() => serve({}, true));
program
  .command('worker')
  .description('run only a worker against the configured Temporal (scale out with more of these)')
  .action(() => serve({ temporal: false, demoServers: false, api: false }, false));
program
  .command('api')
  .description('run only the REST API against the configured Temporal')
  .action(() => serve({ temporal: false, demoServers: false, worker: false }, false));
program
  .command('setup')
  .description('install what is missing: the temporal CLI (and with --test-server, the time-skipping test server)')
  .option('--test-server', 'also install temporal-test-server')
  .action((opts: { testServer?: boolean }) => {
    const cfg = config();
    const log = (m: string) => process.stderr.write(`[airlock] ${m}\n`);
    log(`temporal CLI: ${temporalCli({ root: cfg.root, configured: cfg.temporal.cli, env: cfg.env, log })}`);
    if (opts.testServer) log(`temporal test server: ${temporalTestServer({ root: cfg.root, env: cfg.env, log })}`);
  });

registerToken(program, config);
auditCommands(program, config);
registerReadiness(program, config);
registerReplay(program, config);

registryCommands(program, () => {
  const cfg = config();
  return { config: cfg, log: createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel) };
});

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`airlock: config error: ${err.message}\n`);
  else if (err instanceof LockError) process.stderr.write(`airlock: registry lockfile error: ${err.message}\n`);
  else if (err instanceof PolicyError) process.stderr.write(`airlock: policy error: ${err.message}\n`);
  else process.stderr.write(`airlock: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
