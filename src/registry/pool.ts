import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { SpanKind } from '@opentelemetry/api';
import { createInterface } from 'node:readline';
import type { ServerConfig } from '../config/schema.js';
import { admissionRefusal, catalogAllows } from '../core/registry.js';
import { defaultSecretSource, resolveCredentials, type SecretSource } from './credentials.js';
import { compareTools, describeDrift, type LockFile, type LockStore } from './lock.js';
import { checkServerUrl, guardedFetch, type NetworkRule } from './netguard.js';
import { ClientCredentials } from './oauth.js';
import { Redactor, SENSITIVE_HEADER } from './redact.js';
import type { StatusStore } from './status.js';
import type { Logger } from '../log/logger.js';
import { withSpan } from '../observability/tracing.js';

type Credentials = ReturnType<typeof resolveCredentials> & { oauth?: ClientCredentials };

export class ServerNotFoundError extends Error {
  override readonly name = 'ServerNotFound';
}

/** The registry refuses the server: not approved, not pinned, or its tools drifted from the pins. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

export interface RegistryOptions {
  lock: LockStore;
  /** Servers without pins are refused (default). */
  requirePins: boolean;
  /** Admin decisions (REST) that override the catalog's status. */
  status?: StatusStore;
  /** Told once per distinct drift this process sees (the audit trail's registry.drift). */
  onDrift?: (serverId: string, detail: string) => void | Promise<void>;
}

export interface PoolOptions {
  /** Where server credentials come from (default: none configured means none needed). */
  secrets?: SecretSource;
  /**
   * When set, HTTP servers (and every URL fetched for them: OAuth token endpoints too) must be on these hosts.
   * Non-public addresses are refused either way, unless the server sets allowPrivateNetwork.
   */
  allowedHosts?: string[];
}

interface Connection {
  client: Client;
  tools?: Tool[];
  /** The lock state and tool list last verified, so an unchanged pair is not re-hashed. */
  verified?: { lock: LockFile; tools: Tool[] };
}

/**
 * One MCP client connection per configured server, per worker process. Connections are made
 * lazily, shared by concurrent calls, and dropped when the transport closes so the next call
 * reconnects.
 */
export class McpPool {
  private readonly conns = new Map<string, Promise<Connection>>();
  private closed = false;

  private readonly quarantined = new Map<string, string>();
  /** The pins each quarantine was found against: it holds until they are replaced (a re-approval), even if the lockfile could not record it. */
  private readonly quarantinedPins = new Map<string, string>();
  /** Per server, the secret values its connection knows: masked in everything that leaves the pool. */
  private readonly redactors = new Map<string, Redactor>();
  /** Servers whose tools were last left out of planning, with why (to warn once per reason). */
  private readonly unavailable = new Map<string, string>();

  constructor(
    private readonly servers: Record<string, ServerConfig>,
    private readonly log: Logger,
    private readonly registry?: RegistryOptions,
    private readonly opts: PoolOptions = {},
  ) {}

  /** Servers this worker found drifted, with the reason (until the lock is updated). */
  quarantine(): ReadonlyMap<string, string> {
    return this.quarantined;
  }

  has(serverId: string): boolean {
    return Object.hasOwn(this.servers, serverId);
  }

  /** The server's live tools, verified against the catalog status and the lockfile (throws RegistryError). */
  async listTools(serverId: string): Promise<Tool[]> {
    return this.masked(serverId, async () => (await this.verifiedConnection(serverId)).tools!);
  }

  /**
   * The verified tools for planning and listing, or undefined when the server cannot offer them now
   * (refused, unreachable, refusing our credentials, …): one broken server leaves its own tools out and
   * nothing else. Warned once per distinct reason; calls to it still fail, with the reason, in callTool.
   */
  async availableTools(serverId: string): Promise<Tool[] | undefined> {
    try {
      const tools = await this.listTools(serverId);
      this.unavailable.delete(serverId);
      return tools;
    } catch (err) {
      if (this.closed) throw err;
      const reason = (err as Error).message;
      if (this.unavailable.get(serverId) !== reason) this.log.warn({ mcpServer: serverId, reason }, 'MCP server unavailable: its tools are left out of planning');
      this.unavailable.set(serverId, reason);
      return undefined;
    }
  }

  private redactor(serverId: string): Redactor {
    let r = this.redactors.get(serverId);
    if (!r) this.redactors.set(serverId, (r = new Redactor()));
    return r;
  }

  /** Whatever fails leaves the pool with the server's secrets masked (a hostile server or token endpoint may echo them). */
  private async masked<T>(serverId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.redactor(serverId).error(err);
    }
  }

  /** Whether the catalog lets agents use this tool (a server entry without `tools` allows all its pinned tools). */
  catalogAllows(serverId: string, tool: string): boolean {
    return catalogAllows(this.servers[serverId]?.tools, tool);
  }

  /** Unverified live tools, for `airlock registry pin/diff` only. */
  async liveTools(serverId: string): Promise<Tool[]> {
    return this.masked(serverId, async () => {
      const conn = await this.connection(serverId);
      return (conn.tools = await this.dropOnLostSession(serverId, conn, () => this.fetchTools(conn.client)));
    });
  }

  /**
   * A Streamable HTTP server that restarted no longer knows our session (404): the connection is dropped,
   * so the next call reconnects instead of failing until this process restarts. The error still surfaces.
   */
  private async dropOnLostSession<T>(serverId: string, conn: Connection, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StreamableHTTPError && err.code === 404 && this.conns.get(serverId)) {
        this.log.warn({ mcpServer: serverId }, 'MCP session lost (404); reconnecting on the next call');
        this.conns.delete(serverId);
        void conn.client.close().catch(() => undefined);
      }
      throw err;
    }
  }

  async callTool(serverId: string, name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    // A client span per call, under the activity's span; server and tool only, never the args.
    return withSpan(
      'mcp.callTool',
      { 'mcp.server': serverId, 'mcp.tool': name },
      async (span) => {
        // Verified on every call: a server that drifted since the decision never gets the call.
        const res = await this.masked(serverId, async () => {
          const conn = await this.verifiedConnection(serverId);
          return (await this.dropOnLostSession(serverId, conn, () => conn.client.callTool({ name, arguments: args }, undefined, { signal, timeout: 110_000 }))) as CallToolResult;
        });
        span.setAttribute('mcp.tool.is_error', res.isError === true);
        // A result is data for the model and history: a server echoing its own credential does not put it there.
        return this.redactor(serverId).deep(res);
      },
      SpanKind.CLIENT,
    );
  }

  private async verifiedConnection(serverId: string): Promise<Connection> {
    this.admit(serverId);
    const conn = await this.connection(serverId);
    if (!conn.tools) conn.tools = await this.fetchTools(conn.client);
    this.verify(serverId, conn);
    return conn;
  }

  private admit(serverId: string): void {
    const cfg = this.servers[serverId];
    if (!cfg) return;
    const overrides = this.registry?.status?.current();
    if (overrides instanceof Error) throw new RegistryError(`registry status unusable, refusing all servers: ${overrides.message}`);
    const refusal = admissionRefusal(serverId, cfg.status, overrides?.servers[serverId]);
    if (refusal) throw new RegistryError(refusal);
  }

  private verify(serverId: string, conn: Connection): void {
    if (!this.registry) return;
    const lock = this.registry.lock.current();
    if (lock instanceof Error) throw new RegistryError(`registry lockfile unusable, refusing all servers: ${lock.message}`);
    if (conn.verified?.lock === lock && conn.verified.tools === conn.tools) return;
    const pins = lock.servers[serverId];
    if (!pins) {
      if (this.registry.requirePins) throw new RegistryError(`MCP server "${serverId}" is not pinned; run \`airlock registry pin ${serverId}\` after reviewing it`);
    } else {
      // Quarantine is sticky: definitions restored after drift are still refused until someone re-approves (re-pins) them.
      const held = pins.quarantined?.reason ?? (this.quarantinedPins.get(serverId) === pins.pinnedAt ? this.quarantined.get(serverId) : undefined);
      if (held) {
        this.quarantined.set(serverId, held);
        throw new RegistryError(held);
      }
      const drift = compareTools(pins, conn.tools!);
      if (drift) {
        const reason = `MCP server "${serverId}" is quarantined: its tools differ from ${this.registry.lock.file} (${describeDrift(drift)}); review with \`airlock registry diff ${serverId}\` and re-approve with \`airlock registry approve ${serverId}\``;
        this.log.warn({ mcpServer: serverId, drift }, 'MCP server quarantined: tool definitions drifted');
        void this.registry.onDrift?.(serverId, reason);
        this.quarantined.set(serverId, reason);
        this.quarantinedPins.set(serverId, pins.pinnedAt);
        try {
          this.registry.lock.quarantine(serverId, pins.pinnedAt, reason);
        } catch (err) {
          this.log.error({ mcpServer: serverId, err: (err as Error).message }, 'could not record the quarantine in the lockfile; this worker holds it until re-approval');
        }
        throw new RegistryError(reason);
      }
    }
    this.quarantined.delete(serverId);
    this.quarantinedPins.delete(serverId);
    conn.verified = { lock, tools: conn.tools! };
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
    const redactor = this.redactor(serverId);
    const rule: NetworkRule = { allowedHosts: this.opts.allowedHosts, allowPrivateNetwork: cfg.transport === 'http' && cfg.allowPrivateNetwork };
    // The network rule first: a server whose URL is refused is never sent a credential, not even to its token endpoint.
    if (cfg.transport === 'http') {
      for (const [what, url] of [
        ['', cfg.url],
        ['OAuth token endpoint: ', cfg.oauth?.tokenUrl],
      ] as const) {
        if (url === undefined) continue;
        try {
          await checkServerUrl(new URL(url), rule);
        } catch (err) {
          throw new RegistryError(`MCP server "${serverId}": ${what}${(err as Error).message}`);
        }
      }
      for (const [name, value] of Object.entries(cfg.headers)) if (SENSITIVE_HEADER.test(name)) redactor.add(value);
    }
    let creds: Credentials;
    try {
      const secrets = this.opts.secrets ?? defaultSecretSource({});
      creds = resolveCredentials(cfg, secrets);
      for (const v of [...creds.values, ...Object.values(creds.headers)]) redactor.add(v);
      if (cfg.transport === 'http' && cfg.oauth) {
        const { clientSecret, ...o } = cfg.oauth;
        creds.oauth = new ClientCredentials({ ...o, clientSecret: secrets.get(clientSecret) }, guardedFetch(rule), redactor);
        await creds.oauth.token(); // fail now, with the reason, rather than on the first request
      }
    } catch (err) {
      // Fail closed, and say which reference failed (CredentialError messages never carry a value).
      throw new RegistryError(`MCP server "${serverId}" credentials: ${redactor.text((err as Error).message)}`);
    }
    const transport = this.transport(cfg, log, creds, rule, redactor);
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

  private transport(cfg: ServerConfig, log: Logger, creds: Credentials, rule: NetworkRule, redactor: Redactor): Transport {
    if (cfg.transport === 'http') {
      // Every request (and any URL the SDK derives) goes through the network rule; redirects are refused there.
      return new StreamableHTTPClientTransport(new URL(cfg.url), {
        requestInit: { headers: { ...cfg.headers, ...creds.headers }, redirect: 'error' },
        fetch: creds.oauth ? creds.oauth.fetch : guardedFetch(rule),
      });
    }
    // A minimal environment: the SDK's safe defaults (PATH, HOME, …), the declared variables, and this
    // server's own credentials. Nothing else of the worker's environment (its secrets) is inherited.
    const t = new StdioClientTransport({ command: cfg.command, args: cfg.args, env: { ...cfg.env, ...creds.env }, cwd: cfg.cwd, stderr: 'pipe' });
    const stderr = t.stderr;
    if (stderr) createInterface({ input: stderr as unknown as NodeJS.ReadableStream }).on('line', (line) => log.debug({ stderr: redactor.text(line) }, 'mcp server stderr'));
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
