// What `airlock start` runs on this machine: the ports it needs (checked before anything starts) and the
// local Temporal dev server.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporalCli } from './binary.js';
import { portInUse, startDevServer, type DevServer } from './devserver.js';
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
    codecEndpoint: config.api.port ? `http://${localHost(config.api.host)}:${config.api.port}/codec` : undefined,
    log: (m) => log.info(m),
  });
}

/** A host to call a server on that listens on `host` (a wildcard address is reached on loopback). */
const localHost = (host: string) => (['0.0.0.0', '::'].includes(host) ? '127.0.0.1' : host);

/** A port the stack listens on, what for, and the setting that changes it. */
export interface PortNeed {
  host: string;
  port: number;
  what: string;
  setting: string;
}

/** Every fixed port the parts of the stack about to start listen on (0 = any free port, never in conflict). */
export function portsToStart(config: AirlockConfig, parts: { temporal?: boolean; demoServers?: boolean; api?: boolean }): PortNeed[] {
  const out: PortNeed[] = [];
  if (parts.api !== false) out.push({ host: config.api.host, port: config.api.port, what: 'the API', setting: 'api.port / AIRLOCK_API_PORT' });
  const d = config.temporal.devServer;
  if (parts.temporal !== false && !config.temporal.address) {
    out.push({ host: d.ip, port: d.port, what: 'the Temporal dev server', setting: 'temporal.devServer.port / AIRLOCK_TEMPORAL_PORT' });
    out.push({ host: d.ip, port: d.uiPort, what: 'the Temporal UI', setting: 'temporal.devServer.uiPort / AIRLOCK_TEMPORAL_UI_PORT (0 = headless)' });
  }
  if (parts.demoServers !== false)
    for (const [id, s] of Object.entries(config.servers)) {
      if (s.transport !== 'http' || !s.demo) continue;
      const url = new URL(s.url);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      const envName = configEnvFor(config, port);
      out.push({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, what: `the demo MCP server "${id}"`, setting: `servers.${id}.url${envName ? ` / ${envName}` : ''}` });
    }
  return out.filter((p) => p.port !== 0);
}

/** A `${env.NAME}` or `${env.NAME:-default}` of the config file that gives this port now, if any. */
function configEnvFor(config: AirlockConfig, port: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(config.configFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const m of text.matchAll(/\$\{env\.([A-Za-z0-9_]+)(?::-([^}]*))?\}/g)) if ((config.env[m[1]!] ?? m[2]) === String(port)) return m[1];
  return undefined;
}

/**
 * The first port of `needs` something already listens on, as one line for a person: the port, what
 * needs it, the setting that moves it, and who holds it when that can be told. Undefined when all are free.
 */
export async function portConflict(config: AirlockConfig, needs: PortNeed[]): Promise<string | undefined> {
  const taken = await Promise.all(needs.map((n) => portInUse(n.host, n.port)));
  const need = needs.find((_, i) => taken[i]);
  if (!need) return undefined;
  const holder = (await airlockApiAt(config)) ?? holderOf(need.port);
  return `${need.what} cannot listen on ${need.host}:${need.port} (${need.setting}): the port is already in use (EADDRINUSE)${holder ? `, ${holder}` : ''}; stop that or change the port`;
}

/** "another Airlock stack is running …" when an Airlock API answers on the configured API port. */
async function airlockApiAt(config: AirlockConfig): Promise<string | undefined> {
  if (!config.api.port) return undefined;
  const url = `http://${localHost(config.api.host)}:${config.api.port}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { status?: unknown };
    return body.status === 'ok' ? `another Airlock stack is running (${url} answers)` : undefined;
  } catch {
    return undefined;
  }
}

/** Who listens on the port, from `lsof` (or `ss`) and `ps` when they are there; an Airlock process is named as one. */
function holderOf(port: number): string | undefined {
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 2_000 });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  const pid = run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-t']).split('\n')[0] || /pid=(\d+)/.exec(run('ss', ['-ltnpH', `sport = :${port}`]))?.[1];
  if (!pid) return undefined;
  const [self, parent] = [run('ps', ['-o', 'args=', '-p', pid]), run('ps', ['-o', 'args=', '-p', run('ps', ['-o', 'ppid=', '-p', pid])])];
  if (/airlock|src\/cli\/main\.ts/i.test(`${self}\n${parent}`)) return `another Airlock stack holds it (pid ${pid})`;
  return self ? `held by pid ${pid} (${self.split(' ')[0]})` : `held by pid ${pid}`;
}
