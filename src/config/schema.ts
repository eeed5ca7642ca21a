import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { InboxSettingsSchema } from './inbox.js';
import { notificationsSchema } from './notifications.js';

/** Exactly the forms DurationSchema accepts, for its message. */
export const DURATION_MESSAGE = 'expected a positive duration like 500ms, 30s, 5m, 72h or 1d (a whole number and a unit: ms, s, m, h or d), or a whole number of milliseconds like 60000';
export const DURATION_FIX = 'write e.g. 60000, 30s, 5m, 72h or 1d (no spaces, no fractions, greater than 0)';

/** A bare number or numeric string is milliseconds; otherwise the unit grammar of src/core/duration.ts. */
function toMs(v: number | string): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  if (/^\d+$/.test(v)) return toMs(Number(v));
  return parseDuration(v);
}

/**
 * A duration, in milliseconds once parsed: a positive whole number of milliseconds (`60000`, also as a string,
 * which is what `${env.NAME}` gives), or a whole number with a unit: `500ms`, `30s`, `5m`, `72h`, `1d`.
 */
export const DurationSchema = z.union([z.number(), z.string()], { error: DURATION_MESSAGE }).transform((v, ctx) => {
  const ms = toMs(v);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: DURATION_MESSAGE });
  return ms ?? z.NEVER;
});

const Id = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'ids are lower-case letters, digits and dashes');

import { Classification, ServerSchema, Trust } from './servers.js';
export { HttpServerSchema, ServerSchema, StdioServerSchema, type ServerConfig } from './servers.js';

/** One step of a playbook: a tool and its args, with `{{...}}` templates (src/core/templates.ts). */
const PlaybookStepSchema = z.strictObject({ tool: z.string(), args: z.record(z.string(), z.unknown()).default({}) });

export const AgentSchema = z.strictObject({
  description: z.string().default(''),
  /** Servers this agent may call. Tools of any other server are denied. */
  servers: z.array(Id).min(1),
  /** Model provider name (`embedded` or a configured provider). */
  model: z.string().default('embedded'),
  /**
   * The agent's LangGraph graph: a module, relative to the config file, that default-exports `defineAgent(build)`
   * (`import { defineAgent } from 'airlock/agent'`). The worker bundles it into the workflow sandbox.
   */
  graph: z.string().min(1).optional(),
  maxSteps: z.number().int().min(1).max(10_000).default(20),
  /** Model budget of each run of this agent (default: routing.budgets.perRun). */
  budget: z.strictObject({ tokens: z.number().int().positive().optional(), costUsd: z.number().positive().optional() }).optional(),
  /** Classification of what requesters put in `input`; with the servers a run has used, it decides which models may see the run. */
  inputClassification: z.enum(['public', 'internal', 'confidential', 'restricted']).default('internal'),
  /** `untrusted` when requesters put outside text in `input` (a customer's message as written): the run starts labelled untrusted. */
  inputTrust: Trust.default('trusted'),
  systemPrompt: z.string().default('You are a careful business operations agent. Use the tools to complete the task.'),
  inputSchema: z.record(z.string(), z.unknown()).default({ type: 'object' }),
  /**
   * Rollout phase, enforced by the control layer: `read-only` denies every tool that is not read-only,
   * `gated` sends every write to approval (policy can still deny), `autonomous` lets policy decide.
   */
  autonomy: z.enum(['read-only', 'gated', 'autonomous']).default('gated'),
  approvals: z
    .strictObject({
      /** Approver group when the phase (not a policy) requires approval. */
      group: z.string().min(1).default('approvers'),
      /** Expiry when the determining policy sets none. */
      expiresAfter: DurationSchema.default(72 * 3_600_000),
    })
    .prefault({}),
  /** Steps for the embedded deterministic planner; templates `{{input.x}}`, `{{steps.<tool>.<path>}}`, `a ?? b`. */
  playbook: z.array(PlaybookStepSchema).default([]),
  /**
   * Facts policies see as `context.facts.<name>` (where the action's context declares `facts`): templates over the
   * run's input and the results of its earlier successful steps, e.g. `invoice: '{{steps.billing.get_invoice}}'`.
   * A fact whose step has not run is absent.
   */
  facts: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'fact names are identifiers'), z.string()).default({}),
  /**
   * The built-in agent only: tool calls made after a run fails or is rejected (e.g. close the ticket it opened), as
   * governed calls. Templates may also read `{{outcome.status}}` (failed | rejected) and `{{outcome.reason}}`. A step
   * whose templates name a value the run does not have (a step that did not run) is skipped; one that policy does
   * not allow outright is not run (nobody is asked to approve after the run ended).
   */
  onFailure: z.array(PlaybookStepSchema).default([]),
});
export type AgentConfig = z.infer<typeof AgentSchema>;

/** Where a secret lives: an environment variable or a file (its contents, trimmed; relative to the config file). Never the secret itself. */
export const SecretRefSchema = z.union([z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })], {
  error: 'expected {env: NAME} or {file: PATH}: a reference to the key, never the key itself',
});

/** Fields every model provider has. */
const provider = {
  /** The endpoint. Unset: the vendor's public API (`openai`, `anthropic`) or a local Ollama (`http://127.0.0.1:11434`). */
  baseUrl: z.url().optional(),
  /** The provider's model id (`gpt-4o-mini`, `claude-sonnet-4-5`, `llama3.1`; a deployment's model for vLLM). */
  model: z.string().min(1),
  /** Credentials reference (`{env: NAME}` or `{file: PATH}`), resolved at the first call, never logged. */
  apiKey: SecretRefSchema.optional(),
  /** Where the provider processes data, as a label routing and audit can match on (`on-prem`, `eu`, `us`, …). */
  residency: z.string().min(1).default('unspecified'),
  /** The highest data classification this provider may see. */
  clearance: Classification,
  /** USD per million tokens, for budgets and cost records. */
  price: z.strictObject({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) }).default({ inputPerMTok: 0, outputPerMTok: 0 }),
  /** Stream the answer (tool calls then arrive as deltas). */
  streaming: z.boolean().default(false),
  /** Most tokens the model may generate per call. */
  maxTokens: z.number().int().positive().default(1024),
  temperature: z.number().min(0).max(2).default(0),
  /** Per model call; the activity's own timeout still applies. */
  timeout: DurationSchema.default(60_000),
};

export const ProviderSchema = z.discriminatedUnion('kind', [
  /** OpenAI, or any OpenAI-compatible chat-completions endpoint (vLLM, Ollama's /v1, LM Studio, Azure OpenAI). */
  z
    .strictObject({
      kind: z.literal('openai'),
      ...provider,
      /** Older spelling of `apiKey: {env: NAME}`; an unset variable means no key (local servers). */
      apiKeyEnv: z.string().min(1).optional(),
      /** Azure OpenAI: `baseUrl` is the resource endpoint (`https://NAME.openai.azure.com`). */
      azure: z.strictObject({ apiVersion: z.string().min(1), deployment: z.string().min(1) }).optional(),
    })
    .refine((p) => !(p.apiKey && p.apiKeyEnv), { message: 'give apiKey or apiKeyEnv, not both', path: ['apiKeyEnv'] })
    .refine((p) => !p.azure || p.baseUrl, { message: 'azure needs baseUrl (the resource endpoint, https://NAME.openai.azure.com)', path: ['azure'] }),
  /** Anthropic's Messages API. */
  z
    .strictObject({ kind: z.literal('anthropic'), ...provider, temperature: z.number().min(0).max(1).default(0) })
    .refine((p) => p.apiKey, { message: 'anthropic needs apiKey ({env: NAME} or {file: PATH})', path: ['apiKey'] }),
  /** Ollama's native API (`/api/chat`). */
  z.strictObject({ kind: z.literal('ollama'), ...provider }),
]);
export type ProviderConfig = z.infer<typeof ProviderSchema>;

/**
 * The whole file. Every path in it is relative to the config file's directory (`${configDir}`), whatever the
 * working directory: `dataDir`, `policy.dir`, `registry.lockFile`, `temporal.tls` files, `temporal.cli`, agents'
 * `graph`, servers' `demo.module` and `cwd`, `identity.directory.file` and every `{file: PATH}` secret reference.
 * Files Airlock keeps (`audit.file`, `audit.anchorFile`, `temporal.devServer.dbFile`, servers' `demo.db`) are
 * relative to `dataDir`. Absolute paths are kept as they are.
 */
export const FileConfigSchema = z.strictObject({
  /**
   * State directory, relative to the config file (default `.airlock` beside it). `AIRLOCK_DATA_DIR` overrides it;
   * a relative value there is relative to the repository root, as it always was.
   */
  dataDir: z.string().default('.airlock'),
  api: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(3000) }).prefault({}),
  /** Prometheus metrics and OpenTelemetry traces. */
  observability: z
    .strictObject({
      /** `service.name` of exported spans. */
      serviceName: z.string().min(1).default('airlock'),
      /** `GET /metrics` on the API (Prometheus text format, no token, like every Prometheus target). */
      metrics: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
      /**
       * OTLP/HTTP trace export. `endpoint` is the receiver's base URL (`http://collector:4318`; spans go to
       * `<endpoint>/v1/traces`) or the full traces URL. Unset, and without OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT
       * in the environment, no spans leave the process. Put secrets in headers with `${env.NAME}`.
       */
      otlp: z.strictObject({ endpoint: z.url(), headers: z.record(z.string(), z.string()).default({}) }).optional(),
    })
    .prefault({}),
  temporal: z
    .strictObject({
      /** host:port of an existing Temporal frontend. When set, no local server is started. */
      address: z.string().optional(),
      namespace: z.string().default('default'),
      taskQueue: z.string().default('airlock'),
      /** TLS to an external cluster: `true` for system roots, or CA / client certificate files (mTLS). */
      tls: z
        .union([
          z.boolean(),
          z.strictObject({
            serverName: z.string().optional(),
            caFile: z.string().optional(),
            certFile: z.string().optional(),
            keyFile: z.string().optional(),
          }),
        ])
        .optional()
        .refine((t) => typeof t !== 'object' || !t.certFile === !t.keyFile, 'certFile and keyFile go together'),
      /** Name of the environment variable holding a Temporal Cloud API key (never the key itself). Implies TLS. */
      apiKeyEnv: z.string().optional(),
      /** Worker tuning (see bench/README.md). */
      worker: z
        .strictObject({
          /**
           * Runs kept in the worker's cache. A LangGraph run holds several MB; runs out of the cache are
           * replayed from history when they wake up (an approval), so thousands of paused runs cost no memory.
           */
          maxCachedWorkflows: z.number().int().min(0).default(100),
          /** Threads executing workflow tasks (LangGraph makes them CPU-heavy). */
          workflowThreads: z.number().int().min(1).max(16).default(2),
        })
        .prefault({}),
      /**
       * Payload encryption (AES-256-GCM) of everything Airlock puts in Temporal: inputs, results, queries,
       * updates, history. `keys` maps a key id to a reference to 32 random bytes (base64 or hex); `current`
       * encrypts, every listed key still decrypts (rotation). Unset: a key generated once under the data dir.
       */
      encryption: z
        .strictObject({
          keys: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'key ids are letters, digits, dot, dash and underscore'), SecretRefSchema),
          current: z.string().min(1),
        })
        .refine((e) => e.current in e.keys, { message: 'temporal.encryption.current must name one of temporal.encryption.keys', path: ['current'] })
        .optional(),
      /** Temporal UI origins allowed to call the codec endpoint (`/codec`, CORS). Default: the local dev server's UI. */
      uiOrigins: z.array(z.url()).optional(),
      /** Path to a `temporal` CLI binary (relative to the config file); default: PATH, then the project's .tools virtualenv. */
      cli: z.string().optional(),
      devServer: z
        .strictObject({
          ip: z.string().default('127.0.0.1'),
          port: z.number().int().min(0).max(65535).default(7233),
          uiPort: z.number().int().min(0).max(65535).default(8233),
          /** Relative to the data dir. */
          dbFile: z.string().default('temporal.db'),
        })
        .prefault({}),
    })
    .prefault({}),
  identity: z
    .strictObject({
      /** `dev`: the embedded issuer (demo users, `airlock token`). `oidc`: bearer JWTs from your identity provider. */
      issuer: z.enum(['dev', 'oidc']).default('dev'),
      tokenTtl: DurationSchema.default(12 * 3_600_000),
      oidc: z
        .strictObject({
          issuer: z.url(),
          audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
          jwksUri: z.url().optional(),
          algorithms: z.array(z.string()).optional(),
          clockTolerance: z.number().int().min(0).max(300).optional(),
          claims: z.strictObject({ subject: z.string().optional(), groups: z.string().optional(), roles: z.string().optional() }).optional(),
          /** IdP group → Airlock roles (requester, approver, operator, admin). */
          roleMappings: z.record(z.string(), z.array(z.enum(['requester', 'approver', 'operator', 'admin']))).optional(),
          serviceSubjects: z.array(z.string()).optional(),
        })
        .optional(),
      /**
       * The key the API signs people's decisions with (an ES256 private JWK), so the workflow records a vote, an
       * answer or a named cancellation only with the API's proof. Unset: a key generated once under the data dir.
       */
      decisionKey: SecretRefSchema.optional(),
      /**
       * People a service account may act on behalf of, besides the dev issuer's users: `subjects` inline, or a
       * `file` (YAML or JSON list of subjects, relative to the config file).
       */
      directory: z.strictObject({ subjects: z.array(z.string().min(1)).default([]), file: z.string().min(1).optional() }).optional(),
    })
    .prefault({})
    .refine((i) => i.issuer !== 'oidc' || i.oidc, { message: 'identity.issuer is oidc but identity.oidc is missing', path: ['oidc'] }),
  /** Cedar policies (`*.cedar`) and their schema (`schema.cedarschema`); relative to the config file. */
  policy: z.strictObject({ dir: z.string().default('policies') }).prefault({}),
  /** Pins of approved servers' tool definitions (`airlock registry pin`), relative to the config file. */
  registry: z
    .strictObject({
      lockFile: z.string().default('airlock.lock.json'),
      requirePins: z.boolean().default(true),
      /** Hosts HTTP servers may live on (subdomains included); any other host is refused. */
      allowedHosts: z.array(z.string().min(1)).default([]),
      /** Hosts that URLs inside tool definitions may point to without a scanner finding. */
      urlAllowlist: z.array(z.string().min(1)).default([]),
      /**
       * Model-assisted review of new and changed tool definitions at pin and approve: `model` names a provider of
       * `models:` that judges each definition. Its verdict is a scanner finding, never an approval.
       */
      review: z.strictObject({ model: z.string().min(1) }).optional(),
    })
    .prefault({}),
  /** The audit trail: SQLite under the data dir by default, PostgreSQL when `databaseUrl` is set. */
  audit: z
    .strictObject({
      /** `postgres://…`; empty or unset means the embedded SQLite file. Use `${env.NAME}` to keep the password out of the file. */
      databaseUrl: z
        .string()
        .optional()
        .transform((s) => s || undefined)
        .refine((s) => s === undefined || /^postgres(ql)?:\/\//.test(s), 'expected a postgres:// or postgresql:// URL'),
      /** PostgreSQL schema holding the audit tables (created if missing). */
      schema: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a plain lower-case SQL identifier')
        .default('airlock'),
      /** SQLite file, relative to the data dir. */
      file: z.string().default('audit.db'),
      /** Append-only copy of the chain anchors, relative to the data dir. Put it on write-once storage in production. */
      anchorFile: z.string().default('audit-anchors.jsonl'),
      /** How often the worker anchors the chain heads. */
      anchorEvery: DurationSchema.default(60_000),
      /** `server.tool`, `tool` or `*` → dotted field paths (`*` = any one segment) stored as [REDACTED]. */
      redact: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
    })
    .prefault({}),
  models: z.record(Id, ProviderSchema).default({}),
  /** Which model serves which task, by data classification; and what runs and agents may spend. */
  routing: z
    .strictObject({
      /** The first matching route wins; a run no route matches uses its agent's `model`. */
      routes: z
        .array(
          z.strictObject({
            /** Task class (`plan`, `summarize`, `extract`, `classify-sensitivity`, …) or `*`. */
            task: z.string().min(1),
            /** Only for these agents (default: all). */
            agents: z.array(Id).min(1).optional(),
            /** Only when the run's data is classified as one of these (default: any). */
            classification: z
              .array(z.enum(['public', 'internal', 'confidential', 'restricted']))
              .min(1)
              .optional(),
            /** The fallback chain, in order: `embedded` or names of `models`. */
            models: z.array(z.string().min(1)).min(1),
            reason: z.string().optional(),
          }),
        )
        .default([]),
      budgets: z
        .strictObject({
          /** Per run: model tokens (input + output) and cost in USD. */
          perRun: z.strictObject({ tokens: z.number().int().positive().optional(), costUsd: z.number().positive().optional() }).optional(),
          /** Per agent, over a rolling window. */
          perAgent: z.record(Id, z.strictObject({ tokens: z.number().int().positive().optional(), costUsd: z.number().positive().optional(), window: DurationSchema.default(86_400_000) })).default({}),
        })
        .prefault({}),
    })
    .prefault({}),
  servers: z.record(Id, ServerSchema).default({}),
  agents: z.record(Id, AgentSchema).default({}),
  /** Approval and question notifications (webhook, Slack, email): src/config/notifications.ts. */
  notifications: notificationsSchema(SecretRefSchema, DurationSchema).optional(),
  /** The approver inbox (README "Approver inbox"). */
  inbox: InboxSettingsSchema.optional(),
});
export type FileConfig = z.infer<typeof FileConfigSchema>;
