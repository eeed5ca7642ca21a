import { Command } from 'commander';
import { temporalCli, temporalTestServer } from '../temporal/binary.js';
import { loadConfig } from '../config/load.js';
import { DEMO_USERS } from '../identity/users.js';
import { createLogger } from '../log/logger.js';
import type { StackParts, startStack as StartStack } from '../stack.js';
import { portConflict, portsToStart, startLocalDevServer } from '../temporal/localServer.js';
import { auditCommands } from './audit.js';
import { runCli } from './errors.js';
import { setupNode24 } from './node24.js';
import { registerReadiness } from './readiness.js';
import { registryCommands } from './registry.js';
import { registerReplay } from './replay.js';
import { registerToken } from './token.js';

const program = new Command('airlock')
  .description('Durable, governed runtime for AI agents acting through MCP')
  .option('-c, --config <file>', 'config file (default: $AIRLOCK_CONFIG or examples/airlock.yaml)')
  .option('--json', 'print machine-readable JSON instead of text')
  .option('--debug', 'print the stack trace of an error');

function config() {
  return loadConfig({ file: program.opts<{ config?: string }>().config });
}

async function serve(parts: StackParts, banner: boolean) {
  const cfg = config();
  const log = createLogger(cfg.logLevel);
  // Every port the parts listen on is checked before any of them starts: one line and exit 1, not a stack trace.
  const conflict = await portConflict(cfg, portsToStart(cfg, parts));
  if (conflict) {
    process.stderr.write(`airlock: ${conflict}\n`);
    process.exit(1);
  }
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
        `  Temporal     ${stack.temporalAddress}${stack.temporalUi ? `   UI: ${stack.temporalUi}` : cfg.temporal.address ? '' : '   UI: off (temporal.devServer.uiPort 0)'}`,
        ...Object.entries(cfg.servers).flatMap(([id, s]) => (s.transport === 'http' && s.demo ? [`  MCP demo     ${id} ${s.url}`] : [])),
        `  Data dir     ${cfg.dataDir}`,
        `  Agents       ${Object.keys(cfg.agents).join(', ')}`,
        'Demo users (`npx airlock token <user>` prints a token):',
        ...Object.entries(DEMO_USERS).map(([u, p]) => `  ${u.padEnd(13)} ${p.roles.join(', ').padEnd(20)} groups: ${p.groups.join(', ')}${p.kind === 'service' ? ' (service account)' : ''}`),
        'Demo tokens:',
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
  .option('--node24', "also install Node 24 into .tools/node24, for the test suite's Node 24 leg")
  .action((opts: { testServer?: boolean; node24?: boolean }) => {
    const cfg = config();
    const log = (m: string) => process.stderr.write(`[airlock] ${m}\n`);
    log(`temporal CLI: ${temporalCli({ root: cfg.root, configured: cfg.temporal.cli, env: cfg.env, log })}`);
    if (opts.testServer) log(`temporal test server: ${temporalTestServer({ root: cfg.root, env: cfg.env, log })}`);
    if (opts.node24) {
      const n = setupNode24({ root: cfg.root, log });
      log(`node 24: ${n.node} (${n.version})`);
    }
  });

registerToken(program, config);
auditCommands(program, config);
registerReadiness(program, config);
registerReplay(program, config);

registryCommands(program, () => {
  const cfg = config();
  return { config: cfg, log: createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel) };
});

// One place reports errors: one line on stderr, exit 2 for usage errors and 1 for failures (src/cli/errors.ts).
await runCli(program);
