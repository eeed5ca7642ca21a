// `airlock registry …`: review, pin, diff and re-approve the MCP servers of the catalog.
import type { Command } from 'commander';
import type { AirlockConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { startDemoServers } from '../mcp/demo.js';
import { compareTools, describeDrift, LockStore, toolDefinition } from '../registry/lock.js';
import { scanAndPin } from '../registry/approve.js';
import { defaultSecretSource } from '../registry/credentials.js';
import { McpPool } from '../registry/pool.js';
import { openAuditStore } from '../audit/index.js';
import { RegistryAudit } from '../audit/registry.js';

const out = (s: string) => process.stdout.write(s + '\n');

/** Connects to the catalog's servers (starting the demo HTTP systems if nothing serves them yet). */
async function withPool<T>(config: AirlockConfig, log: Logger, fn: (pool: McpPool) => Promise<T>): Promise<T> {
  // A port in use is `airlock start` serving the system already: connect to that one.
  const demo = await startDemoServers(config.servers, { reuseRunning: true });
  const pool = new McpPool(config.servers, log, undefined, { secrets: defaultSecretSource(config.env), allowedHosts: config.registry.allowedHosts });
  try {
    return await fn(pool);
  } finally {
    await pool.close();
    await demo.close();
  }
}

/** Lines of `a` missing from `b` and vice versa, over pretty-printed canonical JSON. */
function lineDiff(before: unknown, after: unknown): string[] {
  const a = JSON.stringify(before, null, 2).split('\n');
  const b = JSON.stringify(after, null, 2).split('\n');
  return [...a.filter((l) => !b.includes(l)).map((l) => `-   ${l}`), ...b.filter((l) => !a.includes(l)).map((l) => `+   ${l}`)];
}

async function pin(config: AirlockConfig, log: Logger, servers: string[], by: string, override?: string): Promise<number> {
  const lock = new LockStore(config.registry.lockFile);
  // Opened first: an unreachable audit store stops the pin before anything changes.
  const audit = await openAuditStore(config);
  try {
    return await withPool(config, log, async (pool) => {
      const events = new RegistryAudit(audit, log);
      const r = await scanAndPin(config, pool, lock, servers, by, override, (p) =>
        events.record('registry.pinned', p.server, by, 'pinned', { tools: p.tools, overriddenFindings: p.overridden, ...(override ? { override } : {}) }),
      );
      if (!r.ok) {
        for (const b of r.findings) out(`${b.server}: ${b.findings.length} finding(s) block approval:\n${b.text}`);
        out('nothing was pinned; fix the server, or accept with --override "<reason>" (recorded in the lockfile)');
        return 1;
      }
      for (const p of r.pinned) {
        out(`pinned ${p.server}: ${p.tools} tools${p.overridden ? ` (${p.overridden} finding(s) overridden: ${override})` : ''}`);
      }
      // One broken server does not stop the others being pinned, but it is not pinned either.
      for (const f of r.failed) out(`not pinned ${f.server}: ${f.error}`);
      return r.failed.length ? 1 : 0;
    });
  } finally {
    await audit.close();
  }
}

export function registryCommands(program: Command, load: () => { config: AirlockConfig; log: Logger }): void {
  const registry = program.command('registry').description('the approved MCP server catalog and its pinned tool definitions');
  const operator = () => process.env.USER ?? process.env.USERNAME ?? 'operator';

  registry
    .command('list')
    .description('servers with their status, owner and pins; --check connects and compares live tools with the pins')
    .option('--check', 'connect and check for drift')
    .action(async (opts: { check?: boolean }) => {
      const { config, log } = load();
      const lock = new LockStore(config.registry.lockFile).current();
      if (lock instanceof Error) throw lock;
      const check = async (pool?: McpPool) => {
        let drifted = 0;
        for (const [id, s] of Object.entries(config.servers)) {
          const pins = lock.servers[id];
          let state = pins ? `pinned ${Object.keys(pins.tools).length} tools ${pins.pinnedAt} by ${pins.pinnedBy}` : 'NOT PINNED';
          if (pool && pins && s.status === 'approved') {
            const d = compareTools(pins, await pool.liveTools(id));
            state += d ? `  DRIFT (${describeDrift(d)})` : '  live tools match';
            if (d) drifted++;
          }
          out(`${id.padEnd(12)} ${s.status.padEnd(11)} ${s.transport.padEnd(5)} ${(s.classification ?? '').padEnd(12)} ${(s.owner ?? '-').padEnd(14)} ${state}`);
        }
        return drifted;
      };
      process.exitCode = opts.check ? ((await withPool(config, log, check)) ? 1 : 0) : (await check(), 0);
    });

  registry
    .command('pin [servers...]')
    .description('scan and pin the tool definitions of the given (default: all approved) servers into the lockfile')
    .option('--by <name>', 'who approves (recorded)')
    .option('--override <reason>', 'accept scanner findings, with the reason recorded')
    .action(async (servers: string[], opts: { by?: string; override?: string }) => {
      const { config, log } = load();
      const ids = servers.length
        ? servers
        : Object.entries(config.servers)
            .filter(([, s]) => s.status === 'approved')
            .map(([id]) => id);
      process.exitCode = await pin(config, log, ids, opts.by ?? operator(), opts.override);
    });

  registry
    .command('approve <server>')
    .description('re-approve a server after reviewing its drift: scan, then pin its current tools')
    .option('--by <name>', 'who approves (recorded)')
    .option('--override <reason>', 'accept scanner findings, with the reason recorded')
    .action(async (server: string, opts: { by?: string; override?: string }) => {
      const { config, log } = load();
      process.exitCode = await pin(config, log, [server], opts.by ?? operator(), opts.override);
    });

  registry
    .command('diff <server>')
    .description("show how a server's live tools differ from its pins (exit 1 when they do)")
    .action(async (server: string) => {
      const { config, log } = load();
      if (!config.servers[server]) throw new Error(`unknown server "${server}"`);
      const lock = new LockStore(config.registry.lockFile).current();
      if (lock instanceof Error) throw lock;
      const pins = lock.servers[server];
      if (!pins) throw new Error(`server "${server}" is not pinned`);
      process.exitCode = await withPool(config, log, async (pool) => {
        const live = await pool.liveTools(server);
        const d = compareTools(pins, live);
        if (!d) {
          out(`${server}: live tools match the pins (${Object.keys(pins.tools).length} tools)`);
          return 0;
        }
        out(`${server}: ${describeDrift(d)}`);
        for (const name of d.changed) {
          out(`~ ${name}`);
          for (const l of lineDiff(pins.tools[name]!.definition, toolDefinition(live.find((t) => t.name === name)!))) out(l);
        }
        for (const name of d.added) out(`+ ${name}\n${JSON.stringify(toolDefinition(live.find((t) => t.name === name)!), null, 2)}`);
        for (const name of d.removed) out(`- ${name}`);
        return 1;
      });
    });
}
