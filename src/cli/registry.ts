// `airlock registry …`: review, pin, diff and re-approve the MCP servers of the catalog.
import type { Command } from 'commander';
import type { AirlockConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { startDemoServers } from '../mcp/demo.js';
import { compareTools, describeDrift, LockStore, toolDefinition, type Drift, type LockedServer } from '../registry/lock.js';
import { scanAndPin } from '../registry/approve.js';
import { describeReview, lineDiff } from '../registry/reviewShow.js';
import { defaultSecretSource } from '../registry/credentials.js';
import { McpPool } from '../registry/pool.js';
import { openAuditStore } from '../audit/index.js';
import { RegistryAudit } from '../audit/registry.js';
import { CliError, usageError } from './errors.js';
import { printJson, printLine as out, table } from './output.js';

/** Usage error (exit 2) unless every id is a server of the catalog. */
function knownServers(config: AirlockConfig, ids: string[]): void {
  const unknown = ids.filter((id) => !config.servers[id]);
  if (unknown.length) throw usageError(`unknown server ${unknown.map((id) => `"${id}"`).join(', ')}: the catalog has ${Object.keys(config.servers).join(', ') || 'no servers'}`);
}

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

/**
 * Scans and pins `servers`. With a `reviewer` (approve), the definitions under review are shown first (each new
 * or changed tool in full, with its diff against the previous pin) and the reviewer is recorded with the pins.
 */
async function pin(config: AirlockConfig, log: Logger, servers: string[], by: string, override: string | undefined, json: boolean, reviewer?: string): Promise<number> {
  knownServers(config, servers);
  const lock = new LockStore(config.registry.lockFile);
  // Opened first: an unreachable audit store stops the pin before anything changes.
  const audit = await openAuditStore(config);
  try {
    return await withPool(config, log, async (pool) => {
      const events = new RegistryAudit(audit, log);
      const r = await scanAndPin(
        config,
        pool,
        lock,
        servers,
        by,
        override,
        (p) =>
          events.record('registry.pinned', p.server, by, 'pinned', {
            tools: p.tools,
            overriddenFindings: p.overridden,
            ...(override ? { override } : {}),
            ...(reviewer ? { reviewedBy: reviewer } : {}),
          }),
        { reviewer },
      );
      const reviewed = reviewer ? { reviewedBy: reviewer, reviewed: r.reviewed } : {};
      if (json)
        printJson(
          r.ok
            ? { ok: r.failed.length === 0, pinned: r.pinned, failed: r.failed, ...reviewed }
            : { ok: false, pinned: [], blocked: r.findings.map(({ server, findings }) => ({ server, findings })), ...reviewed },
        );
      if (reviewer && !json) for (const rv of r.reviewed) out(describeReview(rv.server, rv.tools, rv.removed));
      if (!r.ok) {
        if (json) return 1;
        for (const b of r.findings) out(`${b.server}: ${b.findings.length} finding(s) block approval:\n${b.text}`);
        out('nothing was pinned; fix the server, or accept with --override "<reason>" (recorded in the lockfile)');
        return 1;
      }
      if (json) return r.failed.length ? 1 : 0;
      for (const p of r.pinned) {
        out(`pinned ${p.server}: ${p.tools} tools${reviewer ? `, reviewed by ${reviewer}` : ''}${p.overridden ? ` (${p.overridden} finding(s) overridden: ${override})` : ''}`);
      }
      // One broken server does not stop the others being pinned, but it is not pinned either.
      for (const f of r.failed) out(`not pinned ${f.server}: ${f.error}`);
      return r.failed.length ? 1 : 0;
    });
  } finally {
    await audit.close();
  }
}

/** A server of `registry list`: its config, pins and (with --check) its drift (null: none). */
interface ListRow {
  id: string;
  server: AirlockConfig['servers'][string];
  pins: LockedServer | undefined;
  drift?: Drift | null;
}

export function registryCommands(program: Command, load: () => { config: AirlockConfig; log: Logger }): void {
  const registry = program.command('registry').description('the approved MCP server catalog and its pinned tool definitions');
  const operator = () => process.env.USER ?? process.env.USERNAME ?? 'operator';
  const json = () => Boolean(program.opts<{ json?: boolean }>().json);

  registry
    .command('list')
    .description('servers with their status, owner and pins; --check connects and compares live tools with the pins')
    .option('--check', 'connect and check for drift')
    .action(async (opts: { check?: boolean }) => {
      const { config, log } = load();
      const lock = new LockStore(config.registry.lockFile).current();
      if (lock instanceof Error) throw lock;
      const check = async (pool?: McpPool) => {
        const rows: ListRow[] = [];
        for (const [id, s] of Object.entries(config.servers)) {
          const pins = lock.servers[id];
          const drift = pool && pins && s.status === 'approved' ? (compareTools(pins, await pool.liveTools(id)) ?? null) : undefined;
          rows.push({ id, server: s, pins, drift });
        }
        if (json()) {
          printJson(
            rows.map(({ id, server: s, pins, drift }) => ({
              server: id,
              status: s.status,
              transport: s.transport,
              classification: s.classification ?? null,
              owner: s.owner ?? null,
              pinned: pins ? { tools: Object.keys(pins.tools).length, at: pins.pinnedAt, by: pins.pinnedBy } : null,
              ...(drift !== undefined ? { drift } : {}),
            })),
          );
        } else {
          const pinState = (r: ListRow) => {
            const state = r.pins ? `pinned ${Object.keys(r.pins.tools).length} tools ${r.pins.pinnedAt} by ${r.pins.pinnedBy}` : 'NOT PINNED';
            if (r.drift === undefined) return state;
            return `${state}  ${r.drift ? `DRIFT (${describeDrift(r.drift)})` : 'live tools match'}`;
          };
          process.stdout.write(
            table(
              [
                { header: 'SERVER', value: (r) => r.id },
                { header: 'STATUS', value: (r) => r.server.status },
                { header: 'TRANSPORT', value: (r) => r.server.transport },
                { header: 'CLASSIFICATION', value: (r) => r.server.classification },
                { header: 'OWNER', value: (r) => r.server.owner },
                { header: 'PINS', value: pinState },
              ],
              rows,
            ),
          );
        }
        return rows.filter((r) => r.drift).length;
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
      process.exitCode = await pin(config, log, ids, opts.by ?? operator(), opts.override, json());
    });

  registry
    .command('approve <server>')
    .description('re-approve a server: show every new or changed tool definition (with its diff against the previous pin) and the findings, then pin it')
    .option('--by <name>', 'the person who reviewed the definitions (required; recorded in the lockfile and the audit trail)')
    .option('--override <reason>', 'accept scanner findings, with the reason recorded')
    .action(async (server: string, opts: { by?: string; override?: string }) => {
      const reviewer = opts.by?.trim();
      if (!reviewer) throw usageError('registry approve needs --by <reviewer>: the person who reviewed the definitions');
      const { config, log } = load();
      process.exitCode = await pin(config, log, [server], reviewer, opts.override, json(), reviewer);
    });

  registry
    .command('diff <server>')
    .description("show how a server's live tools differ from its pins (exit 1 when they do)")
    .action(async (server: string) => {
      const { config, log } = load();
      knownServers(config, [server]);
      const lock = new LockStore(config.registry.lockFile).current();
      if (lock instanceof Error) throw lock;
      const pins = lock.servers[server];
      if (!pins) throw new CliError(`server "${server}" is not pinned, so there is nothing to compare: pin it with airlock registry pin ${server}`);
      process.exitCode = await withPool(config, log, async (pool) => {
        const live = await pool.liveTools(server);
        const d = compareTools(pins, live);
        if (json()) {
          const definition = (name: string) => toolDefinition(live.find((t) => t.name === name)!);
          printJson({
            server,
            drift: Boolean(d),
            changed: (d?.changed ?? []).map((name) => ({ name, pinned: pins.tools[name]!.definition, live: definition(name) })),
            added: (d?.added ?? []).map((name) => ({ name, live: definition(name) })),
            removed: (d?.removed ?? []).map((name) => ({ name, pinned: pins.tools[name]!.definition })),
          });
          return d ? 1 : 0;
        }
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
