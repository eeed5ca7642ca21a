// Hosts any MCP server over Streamable HTTP: stateful sessions (one server instance per client
// session, made by the caller's factory), listen, and a close that does not wait for idle clients.
// It knows nothing about what the server does; `servers.<id>.demo` (src/mcp/demo.ts) and the
// example systems' CLI (examples/mcp/serve.ts) both serve through it.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Response } from 'express';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

/** What a session needs of a server: `McpServer` and the low-level `Server` both fit. */
export type SessionServer = Pick<Server, 'connect' | 'close'>;

export interface HttpHostOptions {
  /** Called once per new client session; each session gets its own server instance. */
  createServer(): SessionServer;
  /** Default 127.0.0.1 (then Host headers are checked against DNS rebinding). */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
}

export interface HttpHost {
  /** e.g. http://127.0.0.1:3101/mcp */
  url: string;
  /** Ends every session and drops open connections, idle or not. Safe to call twice. */
  close(): Promise<void>;
}

function rpcError(res: Response, status: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
}

/** Serves `createServer()`'s servers over Streamable HTTP at `/mcp`. */
export async function hostMcpOverHttp(opts: HttpHostOptions): Promise<HttpHost> {
  const host = opts.host ?? '127.0.0.1';
  const sessions = new Map<string, { server: SessionServer; transport: StreamableHTTPServerTransport }>();
  const app = createMcpExpressApp({ host });

  app.all('/mcp', async (req, res) => {
    const sessionId = req.header('mcp-session-id');
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session) return rpcError(res, 404, `session ${sessionId} not found`);
      return session.transport.handleRequest(req, res, req.body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(req.body)) return rpcError(res, 400, 'no mcp-session-id: start with an initialize request');

    const server = opts.createServer();
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
  await once(http, 'listening'); // rejects with the listen error (EADDRINUSE, EADDRNOTAVAIL)
  const { port } = http.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = async () => {
    await Promise.allSettled([...sessions.values()].map((s) => s.server.close()));
    await new Promise<void>((done) => {
      http.close(() => done());
      // A client mid-request (or a stalled one) would otherwise hold close() open indefinitely.
      http.closeAllConnections();
    });
  };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/mcp`,
    close: () => (closing ??= close()),
  };
}
