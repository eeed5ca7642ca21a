// The MCP server catalog entries of airlock.yaml (`servers.<name>`): how Airlock reaches a server and what the
// catalog says about it (classification, trust, lifecycle, owner, allowed tools, credentials).
import { z } from 'zod';

/** Data classification of a server, given to policy as the tool resource's `classification`. */
export const Classification = z.enum(['public', 'internal', 'confidential', 'restricted']).default('internal');

/** Whether content is written by the company's own people and systems (`trusted`) or may come from outside (`untrusted`). */
export const Trust = z.enum(['trusted', 'untrusted']);

/** Catalog fields every server carries. */
const catalog = {
  classification: Classification,
  /** Lifecycle: only `approved` servers are ever called. */
  status: z.enum(['proposed', 'approved', 'quarantined', 'retired']).default('approved'),
  /** Team accountable for the server. */
  owner: z.string().optional(),
  /** When set, only these tools of the server are offered and allowed. */
  tools: z.array(z.string().min(1)).optional(),
  /**
   * Whether what the server returns may carry text written by people outside the company (ticket bodies customers
   * write, web pages, inbound email): a run that has seen such a result is labelled untrusted (src/core/labels.ts).
   */
  trust: Trust.optional(), // default: trusted
  /** Per-tool trust where it differs from the server's, e.g. `{ get_ticket: untrusted }`. */
  toolTrust: z.record(z.string().min(1), Trust).optional(),
  /**
   * Credentials, resolved when the worker connects and injected only into this server's process
   * environment (stdio) or request headers (http). The config names where a secret lives, never its value.
   */
  credentials: z
    .array(
      z.strictObject({
        from: z.union([z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })]),
        inject: z.union([z.strictObject({ env: z.string().min(1) }), z.strictObject({ header: z.string().min(1), prefix: z.string().default('') })]),
      }),
    )
    .default([]),
};

export const StdioServerSchema = z.strictObject({
  transport: z.literal('stdio'),
  ...catalog,
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Variables passed to the server process; nothing else is inherited but PATH-like basics. */
  env: z.record(z.string(), z.string()).default({}),
  /** Working directory of the server process, relative to the config file (default: Airlock's own). */
  cwd: z.string().optional(),
});

export const HttpServerSchema = z
  .strictObject({
    transport: z.literal('http'),
    ...catalog,
    url: z.url(),
    headers: z.record(z.string(), z.string()).default({}),
    /** Permit a private, loopback or link-local address for this server (the demo servers on 127.0.0.1). */
    allowPrivateNetwork: z.boolean().default(false),
    /** OAuth 2.0 client credentials for servers that need them; the secret is a reference, never a value. */
    oauth: z
      .strictObject({
        tokenUrl: z.url(),
        clientId: z.string().min(1),
        clientSecret: z.union([z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })]),
        /** The server's resource indicator (RFC 8707): the token's audience. */
        resource: z.string().optional(),
        scope: z.string().optional(),
      })
      .optional(),
    /**
     * When set, `airlock start` (and the registry CLI, when nothing serves it yet) serves this system itself
     * at `url`, which must then be `http://HOST:PORT/mcp`. `module` is the file that provides the system,
     * relative to the config file: it exports `openSystem({ system, db })` (src/mcp/demo.ts, `OpenMcpSystem`);
     * the module decides which `system` names exist, and `db` is the data file it keeps (relative to the data dir).
     */
    demo: z.strictObject({ module: z.string().min(1), system: z.string().min(1), db: z.string().min(1) }).optional(),
  })
  .refine(
    (s) => {
      if (!s.demo) return true;
      const u = new URL(s.url);
      return u.protocol === 'http:' && u.port !== '' && u.pathname === '/mcp';
    },
    { message: 'a server with `demo` is served in process over plain HTTP at /mcp: url must be http://HOST:PORT/mcp', path: ['url'] },
  );

export const ServerSchema = z.discriminatedUnion('transport', [StdioServerSchema, HttpServerSchema]);
export type ServerConfig = z.infer<typeof ServerSchema>;
