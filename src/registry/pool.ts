import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createInterface } from 'node:readline';
import type { ServerConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';

export class ServerNotFoundError extends Error {
  override readonly name = 'ServerNotFound';
}

interface Connection {
  client: Client;
  tools?: Tool[];
}

/**
 * One MCP client connection per configured server, per worker process. Connections are made
 * lazily, shared by concurrent calls, and dropped when the transport closes so the next call
 * reconnects.
 */
export class McpPool {
  private readonly conns = new Map<string, Promise<Connection>>();
  private closed = false;

  constructor(
    private readonly servers: Record<string, ServerConfig>,
    private readonly log: Logger,
  ) {}

  has(serverId: string): boolean {
    return Object.hasOwn(this.servers, serverId);
  }

  async listTools(serverId: string): Promise<Tool[]> {
    const conn = await this.connection(serverId);
    if (!conn.tools) conn.tools = await this.fetchTools(conn.client);
    return conn.tools;
  }

  async callTool(serverId: string, name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const { client } = await this.connection(serverId);
    return (await client.callTool({ name, arguments: args }, undefined, { signal, timeout: 110_000 })) as CallToolResult;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.allSettled(all.map(async (p) => (await p).client.close()));
  }

  private connection(serverId: string): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('MCP pool is closed'));
    let conn = this.conns.get(serverId);
    if (!conn) {
      conn = this.connect(serverId);
      this.conns.set(serverId, conn);
      conn.catch(() => this.conns.delete(serverId));
    }
    return conn;
  }

  private async connect(serverId: string): Promise<Connection> {
    const cfg = this.servers[serverId];
    if (!cfg) throw new ServerNotFoundError(`MCP server "${serverId}" is not configured`);
    const log = this.log.child({ mcpServer: serverId });
    const client = new Client({ name: 'airlock', version: '0.1.0' });
    const conn: Connection = { client };
    const transport = this.transport(cfg, log);
    transport.onclose = () => {
      if (this.conns.get(serverId) && !this.closed) log.warn('MCP connection closed; will reconnect on next call');
      this.conns.delete(serverId);
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      conn.tools = undefined;
    });
    await client.connect(transport, { timeout: 30_000 });
    log.debug('MCP connected');
    return conn;
  }

  private transport(cfg: ServerConfig, log: Logger): Transport {
    if (cfg.transport === 'http') {
      return new StreamableHTTPClientTransport(new URL(cfg.url), { requestInit: { headers: cfg.headers, redirect: 'error' } });
    }
    const t = new StdioClientTransport({ command: cfg.command, args: cfg.args, env: cfg.env, cwd: cfg.cwd, stderr: 'pipe' });
    const stderr = t.stderr;
    if (stderr) createInterface({ input: stderr as unknown as NodeJS.ReadableStream }).on('line', (line) => log.debug({ stderr: line }, 'mcp server stderr'));
    return t;
  }

  private async fetchTools(client: Client): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined);
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }
}
