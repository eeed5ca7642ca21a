// `servers.<id>.demo`: an HTTP MCP server that Airlock serves in process (the demo's ticketing system),
// so that `airlock start` needs nothing else running.
//
// Design: Airlock owns the generic part (hosting any MCP server factory over Streamable HTTP, in
// ./host.ts); the system itself is a module the config names (`demo.module`), imported at run time
// from that path, as Cedar policies are read from `policy.dir`. So src/ never imports a system
// (nothing in src/ imports from examples/), and a deployment can swap in its own fixture or stand-in
// without touching Airlock. The stdio demo servers are config-driven the same way (command + args).
import { pathToFileURL } from 'node:url';
import type { ServerConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { hostMcpOverHttp, type HttpHost, type SessionServer } from './host.js';

export type DemoConfig = NonNullable<Extract<ServerConfig, { transport: 'http' }>['demo']>;

/** An open system: its storage, and a factory for MCP servers over it (one per client session). */
export interface McpSystem {
  createServer(): SessionServer;
  /** Releases the storage; called after every session has ended. */
  close(): void | Promise<void>;
}

/**
 * What a `demo.module` exports as `openSystem`: opens `system` (the module decides which names exist)
 * on its data file `db` (created on first use). Throw for an unknown system; the error stops start-up.
 */
export type OpenMcpSystem = (opts: { system: string; db: string }) => McpSystem | Promise<McpSystem>;

/** Imports `demo.module` and returns its `openSystem`. A `.ts` module needs the tsx loader, which `airlock` runs under. */
export async function loadSystemModule(path: string): Promise<OpenMcpSystem> {
  const mod = (await import(pathToFileURL(path).href)) as { openSystem?: unknown };
  // The one check a dynamic import allows: the module's types are not known at compile time.
  if (typeof mod.openSystem !== 'function') throw new Error(`demo module ${path} does not export a function openSystem({ system, db })`);
  return mod.openSystem as OpenMcpSystem;
}

/** Opens `demo`'s system and serves it at `url`'s host and port; close() ends the sessions, then closes the system. */
export async function startDemoServer(demo: DemoConfig, url: string): Promise<HttpHost> {
  const open = await loadSystemModule(demo.module);
  const system = await open({ system: demo.system, db: demo.db });
  const { hostname, port } = new URL(url);
  let host: HttpHost;
  try {
    // URL keeps the brackets of an IPv6 hostname; listen() wants the bare address.
    host = await hostMcpOverHttp({ createServer: () => system.createServer(), host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port) });
  } catch (err) {
    await system.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return { url: host.url, close: () => (closing ??= host.close().then(() => system.close())) };
}

export interface DemoServers {
  /** The servers this call started (not those it found already served). */
  started: Array<{ id: string; url: string }>;
  close(): Promise<void>;
}

/**
 * Serves every HTTP server of `servers` that has `demo`. With `reuseRunning`, a port already in use
 * is taken to be `airlock start` serving it (the registry CLI and the bench run next to it); without,
 * it is an error. On any failure, what was started is closed again.
 */
export async function startDemoServers(servers: Record<string, ServerConfig>, opts: { log?: Logger; reuseRunning?: boolean } = {}): Promise<DemoServers> {
  const running: Array<{ id: string; host: HttpHost }> = [];
  const close = async () => {
    const failed = (await Promise.allSettled(running.map((r) => r.host.close()))).filter((r) => r.status === 'rejected');
    if (failed.length)
      throw new AggregateError(
        failed.map((f) => f.reason),
        'closing the demo MCP servers failed',
      );
  };
  try {
    for (const [id, s] of Object.entries(servers)) {
      if (s.transport !== 'http' || !s.demo) continue;
      try {
        const host = await startDemoServer(s.demo, s.url);
        running.push({ id, host });
        opts.log?.info({ server: id, url: host.url }, 'demo MCP server listening');
      } catch (err) {
        if (!(opts.reuseRunning && (err as NodeJS.ErrnoException).code === 'EADDRINUSE')) throw err;
      }
    }
  } catch (err) {
    await close().catch(() => {}); // the start failure is the error to report
    throw err;
  }
  return { started: running.map((r) => ({ id: r.id, url: r.host.url })), close };
}
