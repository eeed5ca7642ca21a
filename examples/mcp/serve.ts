// Runs a demo business system as an MCP server, over stdio or Streamable HTTP.
// Library: openSystem (also the `servers.<id>.demo.module` contract Airlock loads, src/mcp/demo.ts),
// startHttpServer, serveStdio. CLI:
//   node --import tsx examples/mcp/serve.ts <crm|ticketing|billing> --db <path> [--transport stdio|http] [--host H] [--port N]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { OpenMcpSystem } from '../../src/mcp/demo.js';
import { hostMcpOverHttp, type HttpHost } from '../../src/mcp/host.js';
import { createBillingServer, openBillingDb } from './billing.js';
import type { Db } from './common.js';
import { createCrmServer, openCrmDb } from './crm.js';
import { createTicketingServer, openTicketingDb } from './ticketing.js';

export const DEMO_SYSTEMS = ['crm', 'ticketing', 'billing'] as const;
export type DemoSystem = (typeof DEMO_SYSTEMS)[number];

export interface SystemOptions {
  /** Billing only: hold each new refund this long after committing it (see createBillingServer). */
  refundDelayMs?: number;
}

/** An open system database and a factory for MCP servers over it (one server per client session). */
export interface DemoSystemHandle {
  db: Db;
  createServer(): McpServer;
  /** Closes the database. */
  close(): void;
}

const SYSTEMS: Record<DemoSystem, { open(path: string): Db; create(db: Db, opts: SystemOptions): McpServer }> = {
  crm: { open: openCrmDb, create: (db) => createCrmServer(db) },
  ticketing: { open: openTicketingDb, create: (db) => createTicketingServer(db) },
  billing: { open: openBillingDb, create: createBillingServer },
};

const isDemoSystem = (s: string): s is DemoSystem => (DEMO_SYSTEMS as readonly string[]).includes(s);

/** Opens `system`'s database at `db` (created and seeded if new). The name is checked here: config gives a plain string. */
export function openSystem(opts: { system: string; db: string } & SystemOptions): DemoSystemHandle {
  const { system } = opts;
  if (!isDemoSystem(system)) throw new Error(`unknown demo system "${system}"; expected one of ${DEMO_SYSTEMS.join(', ')}`);
  const impl = SYSTEMS[system];
  const db = impl.open(opts.db);
  return { db, createServer: () => impl.create(db, opts), close: () => db.close() };
}
// Fails to compile when openSystem stops fitting what Airlock loads from `demo.module`.
openSystem satisfies OpenMcpSystem;

export interface HttpServerOptions extends SystemOptions {
  system: string;
  dbPath: string;
  /** Default 127.0.0.1 (then Host headers are checked against DNS rebinding). */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
}

export interface Closable {
  /** Ends every session, drops open connections, closes the database. Safe to call twice. */
  close(): Promise<void>;
}

export type RunningServer = HttpHost;

/** Serves `system` over Streamable HTTP at `/mcp` (Airlock's host: src/mcp/host.ts); close() also closes the database. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningServer> {
  const system = openSystem({ ...opts, db: opts.dbPath });
  let host: HttpHost;
  try {
    host = await hostMcpOverHttp({ createServer: system.createServer, host: opts.host, port: opts.port });
  } catch (err) {
    system.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return { url: host.url, close: () => (closing ??= host.close().then(() => system.close())) };
}

/** Serves `system` on this process's stdin/stdout until stdin ends or `close` is called. */
export async function serveStdio(system: DemoSystem, dbPath: string, opts: SystemOptions = {}): Promise<Closable> {
  const handle = openSystem({ ...opts, system, db: dbPath });
  const server = handle.createServer();
  await server.connect(new StdioServerTransport());
  let closing: Promise<void> | undefined;
  return {
    close: () => (closing ??= server.close().finally(() => handle.close())),
  };
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('serve')
    .description('Run a demo business system as an MCP server (its SQLite file is created and seeded if new)')
    .addArgument(new Argument('<system>', 'which system').choices(DEMO_SYSTEMS))
    .requiredOption('--db <path>', 'SQLite database file')
    .addOption(new Option('--transport <kind>', 'MCP transport').choices(['stdio', 'http']).default('stdio'))
    .option('--host <host>', 'HTTP: address to bind', '127.0.0.1')
    .option('--port <n>', 'HTTP: port (0 = any free port)', nonNegativeInt, 0)
    .addOption(new Option('--refund-delay-ms <ms>', 'billing: pause after committing a refund, before answering').env('AIRLOCK_DEMO_REFUND_DELAY_MS').argParser(nonNegativeInt))
    .parse(argv);
  const system = program.processedArgs[0] as DemoSystem;
  const o = program.opts<{ db: string; transport: 'stdio' | 'http'; host: string; port: number; refundDelayMs?: number }>();

  let running: Closable;
  if (o.transport === 'http') {
    const http = await startHttpServer({ system, dbPath: o.db, host: o.host, port: o.port, refundDelayMs: o.refundDelayMs });
    process.stdout.write(`listening ${http.url}\n`);
    running = http;
  } else {
    running = await serveStdio(system, o.db, { refundDelayMs: o.refundDelayMs });
    process.stdin.once('end', () => shutdown('stdin closed'));
  }
  function shutdown(why: string): void {
    process.stderr.write(`demo ${system} server stopping: ${why}\n`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
