// A Streamable HTTP server that restarts forgets its sessions and answers 404 (MCP spec): the pool
// drops that connection, so the next call opens a new session instead of failing until restart.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { createLogger } from '../../src/log/logger.js';
import { hostMcpOverHttp, type HttpHost } from '../../src/mcp/host.js';
import { McpPool } from '../../src/registry/pool.js';
import type { ServerConfig } from '../../src/config/schema.js';
import { ServerSchema } from '../../src/config/schema.js';

function echoServer(generation: number): McpServer {
  const s = new McpServer({ name: 'echo', version: '1.0.0' });
  s.registerTool('echo', { inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } }, async ({ text }) => ({ content: [{ type: 'text', text: `${generation}:${text}` }] }));
  return s;
}

test('after the HTTP server restarts, one call fails with the lost session and the next reconnects', async () => {
  let host: HttpHost = await hostMcpOverHttp({ createServer: () => echoServer(1) });
  const port = Number(new URL(host.url).port);
  const servers: Record<string, ServerConfig> = { echo: ServerSchema.parse({ transport: 'http', url: host.url, allowPrivateNetwork: true }) };
  const pool = new McpPool(servers, createLogger('silent'));
  try {
    const text = async () => ((await pool.callTool('echo', 'echo', { text: 'hi' })).content as Array<{ text: string }>)[0]!.text;
    assert.equal(await text(), '1:hi');
    await host.close();
    host = await hostMcpOverHttp({ createServer: () => echoServer(2), port });
    // Stale keep-alive sockets may fail first; then the server says the session is unknown (404).
    const errors: string[] = [];
    let answer: string | undefined;
    for (let i = 0; i < 5 && answer === undefined; i++) answer = await text().catch((err: Error) => void errors.push(err.message));
    assert.ok(
      errors.some((m) => /session \S+ not found/.test(m)),
      `the server refused the lost session: ${errors.join(' | ')}`,
    );
    assert.equal(answer, '2:hi', 'a new session on the restarted server');
  } finally {
    await pool.close();
    await host.close();
  }
});
