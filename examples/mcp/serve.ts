// Runs a demo business system as an MCP server, over stdio or Streamable HTTP.
// Library: openSystem, startHttpServer, serveStdio. CLI:
//   node --import tsx examples/mcp/serve.ts <crm|ticketing|billing> --db <path> [--transport stdio|http] [--host H] [--port N]
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import type { Response } from 'express';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
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
}

const SYSTEMS: Record<DemoSystem, { open(path: string): Db; create(db: Db, opts: SystemOptions): McpServer }> = {
  crm: { open: openCrmDb, create: (db) => createCrmServer(db) },
  ticketing: { open: openTicketingDb, create: (db) => createTicketingServer(db) },
  billing: { open: openBillingDb, create: createBillingServer },
};

export function openSystem(system: DemoSystem, dbPath: string, opts: SystemOptions = {}): DemoSystemHandle {
  const impl = SYSTEMS[system];
  if (!impl) throw new Error(`unknown demo system "${system}"; expected one of ${DEMO_SYSTEMS.join(', ')}`);
  const db = impl.open(dbPath);
  return { db, createServer: () => impl.create(db, opts) };
}

export interface HttpServerOptions extends SystemOptions {
  system: DemoSystem;
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

export interface RunningServer extends Closable {
  /** e.g. http://127.0.0.1:3101/mcp */
  url: string;
}

function rpcError(res: Response, status: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
}

/** Serves `system` over Streamable HTTP at `/mcp`, with stateful sessions (an MCP server per session). */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const system = openSystem(opts.system, opts.dbPath, opts);
  const sessions = new Map<string, { server: McpServer; transport: StreamableHTTPServerTransport }>();
  const app = createMcpExpressApp({ host });

  app.all('/mcp', async (req, res) => {
    const sessionId = req.header('mcp-session-id');
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session) return rpcError(res, 404, `session ${sessionId} not found`);
      return session.transport.handleRequest(req, res, req.body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(req.body)) return rpcError(res, 400, 'no mcp-session-id: start with an initialize request');

    const server = system.createServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => void sessions.set(id, { server, transport }),
    });
    // The transport closes itself on the client's DELETE, and on close() below.
    transport.onclose = () => void (transport.sessionId && sessions.delete(transport.sessionId));
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  const http = app.listen(opts.port ?? 0, host);
  try {
    await once(http, 'listening');
  } catch (err) {
    system.db.close();
    throw err;
  }
  const { port } = http.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = async () => {
    await Promise.allSettled([...sessions.values()].map((s) => s.server.close()));
    await new Promise<void>((done) => {
      http.close(() => done());
      http.closeAllConnections();
    });
    system.db.close();
  };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/mcp`,
    close: () => (closing ??= close()),
  };
}

/** Serves `system` on this process's stdin/stdout until stdin ends or `close` is called. */
export async function serveStdio(system: DemoSystem, dbPath: string, opts: SystemOptions = {}): Promise<Closable> {
  const { db, createServer } = openSystem(system, dbPath, opts);
  const server = createServer();
  await server.connect(new StdioServerTransport());
  let closing: Promise<void> | undefined;
  return {
    close: () => (closing ??= server.close().finally(() => db.close())),
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
    .addOption(
      new Option('--refund-delay-ms <ms>', 'billing: pause after committing a refund, before answering')
        .env('AIRLOCK_DEMO_REFUND_DELAY_MS')
        .argParser(nonNegativeInt),
    )
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
