import { Ajv2020 } from 'ajv/dist/2020.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { FileConfigSchema, type FileConfig } from './schema.js';
import type { AgentSpec } from '../core/types.js';

/** Repository root (where package.json lives). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_CONFIG_FILE = join(ROOT, 'examples', 'airlock.yaml');

/** The only place that reads process.env. */
export const EnvSchema = z.object({
  AIRLOCK_CONFIG: z.string().optional(),
  AIRLOCK_DATA_DIR: z.string().optional(),
  AIRLOCK_API_HOST: z.string().optional(),
  AIRLOCK_API_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  AIRLOCK_TEMPORAL_ADDRESS: z.string().optional(),
  AIRLOCK_TEMPORAL_NAMESPACE: z.string().optional(),
  AIRLOCK_TEMPORAL_CLI: z.string().optional(),
  AIRLOCK_TEMPORAL_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  AIRLOCK_TEMPORAL_UI_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  AIRLOCK_TASK_QUEUE: z.string().optional(),
  AIRLOCK_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type Env = z.infer<typeof EnvSchema>;

export type AirlockConfig = FileConfig & {
  root: string;
  configFile: string;
  logLevel: Env['AIRLOCK_LOG_LEVEL'];
  /** The process environment as given to loadConfig: API keys by variable name, PATH for binaries. */
  env: Readonly<Record<string, string | undefined>>;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
  ) {
    super(line ? `${file}:${line}: ${message}` : `${file}: ${message}`);
  }
}

export interface LoadOptions {
  file?: string;
  env?: Record<string, string | undefined>;
  /** Applied after the file and the environment (tests, embedded callers). */
  overrides?: (cfg: FileConfig) => void;
}

export function loadConfig(opts: LoadOptions = {}): AirlockConfig {
  const rawEnv = opts.env ?? process.env;
  const envResult = EnvSchema.safeParse(rawEnv);
  if (!envResult.success) {
    const issue = envResult.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`, 'environment');
  }
  const env = envResult.data;
  const file = resolve(opts.file ?? env.AIRLOCK_CONFIG ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config: ${(err as Error).message}`, file);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(e.message.split('\n')[0]!, file, lines.linePos(e.pos[0]).line);
  }
  const lineOf = (path: PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };

  const dataDirRaw = env.AIRLOCK_DATA_DIR ?? (doc.getIn(['dataDir']) as string | undefined) ?? '.airlock';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(ROOT, dataDirRaw);
  const vars: Record<string, string> = { root: ROOT, dataDir, node: process.execPath, configDir: dirname(file) };
  let raw: unknown;
  try {
    raw = interpolate(doc.toJS() ?? {}, [], vars, rawEnv);
  } catch (err) {
    const e = err as InterpolationError;
    throw new ConfigError(e.message, file, lineOf(e.path));
  }
  const parsed = FileConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new ConfigError(`${where}${issue.message}`, file, lineOf(issue.path));
  }
  const cfg = parsed.data;
  cfg.dataDir = dataDir;
  if (env.AIRLOCK_API_HOST) cfg.api.host = env.AIRLOCK_API_HOST;
  if (env.AIRLOCK_API_PORT !== undefined) cfg.api.port = env.AIRLOCK_API_PORT;
  if (env.AIRLOCK_TEMPORAL_ADDRESS) cfg.temporal.address = env.AIRLOCK_TEMPORAL_ADDRESS;
  if (env.AIRLOCK_TEMPORAL_NAMESPACE) cfg.temporal.namespace = env.AIRLOCK_TEMPORAL_NAMESPACE;
  if (env.AIRLOCK_TEMPORAL_CLI) cfg.temporal.cli = env.AIRLOCK_TEMPORAL_CLI;
  if (env.AIRLOCK_TEMPORAL_PORT !== undefined) cfg.temporal.devServer.port = env.AIRLOCK_TEMPORAL_PORT;
  if (env.AIRLOCK_TEMPORAL_UI_PORT !== undefined) cfg.temporal.devServer.uiPort = env.AIRLOCK_TEMPORAL_UI_PORT;
  if (env.AIRLOCK_TASK_QUEUE) cfg.temporal.taskQueue = env.AIRLOCK_TASK_QUEUE;
  const tls = cfg.temporal.tls;
  if (typeof tls === 'object') {
    // Certificate paths are relative to the config file, like everything else a config names.
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) if (tls[key]) tls[key] = resolve(dirname(file), tls[key]);
  }
  cfg.policy.dir = resolve(dirname(file), cfg.policy.dir);
  cfg.registry.lockFile = resolve(dirname(file), cfg.registry.lockFile);
  for (const s of Object.values(cfg.servers)) if (s.transport === 'http' && s.demo) s.demo.module = resolve(dirname(file), s.demo.module);
  for (const a of Object.values(cfg.agents)) if (a.graph) a.graph = resolve(dirname(file), a.graph);
  opts.overrides?.(cfg);
  checkReferences(cfg, file, lineOf);
  return { ...cfg, root: ROOT, configFile: file, logLevel: env.AIRLOCK_LOG_LEVEL, env: rawEnv };
}

function checkReferences(cfg: FileConfig, file: string, lineOf: (p: PropertyKey[]) => number | undefined): void {
  const tls = cfg.temporal.tls;
  if (typeof tls === 'object') {
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      const f = tls[key];
      if (f && !existsSync(f)) throw new ConfigError(`temporal.tls.${key}: no such file ${f}`, file, lineOf(['temporal', 'tls', key]));
    }
  }
  if (!existsSync(cfg.policy.dir)) throw new ConfigError(`policy.dir: no such directory ${cfg.policy.dir}`, file, lineOf(['policy', 'dir']));
  for (const [id, s] of Object.entries(cfg.servers)) {
    // Only the file is checked here; it is imported when the server starts (a bad export fails start-up then).
    if (s.transport === 'http' && s.demo && !existsSync(s.demo.module))
      throw new ConfigError(`servers.${id}.demo.module: no such file ${s.demo.module}`, file, lineOf(['servers', id, 'demo', 'module']));
  }
  const ajv = new Ajv2020({ strict: false });
  for (const [name, agent] of Object.entries(cfg.agents)) {
    agent.servers.forEach((s, i) => {
      if (!cfg.servers[s]) throw new ConfigError(`agents.${name}.servers: unknown server "${s}"`, file, lineOf(['agents', name, 'servers', i]));
    });
    // Only the file is checked here; the worker loads, checks and bundles the module (src/worker/agents.ts).
    if (agent.graph && !(existsSync(agent.graph) && statSync(agent.graph).isFile()))
      throw new ConfigError(`agents.${name}.graph: no such file ${agent.graph}`, file, lineOf(['agents', name, 'graph']));
    if (agent.model !== 'embedded' && !cfg.models[agent.model]) throw new ConfigError(`agents.${name}.model: unknown model provider "${agent.model}"`, file, lineOf(['agents', name, 'model']));
    try {
      ajv.compile(agent.inputSchema);
    } catch (err) {
      throw new ConfigError(`agents.${name}.inputSchema: invalid JSON Schema: ${(err as Error).message}`, file, lineOf(['agents', name, 'inputSchema']));
    }
    agent.playbook.forEach((s, i) => {
      const server = s.tool.split('.')[0]!;
      if (!agent.servers.includes(server)) throw new ConfigError(`agents.${name}.playbook: "${s.tool}" is not on a server of this agent`, file, lineOf(['agents', name, 'playbook', i]));
    });
  }
  cfg.routing.routes.forEach((r, i) => {
    r.models.forEach((m, j) => {
      if (m !== 'embedded' && !cfg.models[m]) throw new ConfigError(`routing.routes[${i}].models: unknown model provider "${m}"`, file, lineOf(['routing', 'routes', i, 'models', j]));
    });
    r.agents?.forEach((a, j) => {
      if (!cfg.agents[a]) throw new ConfigError(`routing.routes[${i}].agents: unknown agent "${a}"`, file, lineOf(['routing', 'routes', i, 'agents', j]));
    });
  });
  for (const a of Object.keys(cfg.routing.budgets.perAgent)) {
    if (!cfg.agents[a]) throw new ConfigError(`routing.budgets.perAgent: unknown agent "${a}"`, file, lineOf(['routing', 'budgets', 'perAgent', a]));
  }
}

class InterpolationError extends Error {
  constructor(
    message: string,
    readonly path: PropertyKey[],
  ) {
    super(message);
  }
}

/** Replaces `${root}`, `${dataDir}`, `${node}`, `${configDir}` and `${env.NAME:-default}` in string values. */
function interpolate(value: unknown, path: PropertyKey[], vars: Record<string, string>, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([^}]+)\}/g, (_m, expr: string) => {
      const envRef = /^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/.exec(expr);
      if (envRef) {
        const v = env[envRef[1]!] ?? envRef[2];
        if (v === undefined) throw new InterpolationError(`environment variable ${envRef[1]} is not set`, path);
        return v;
      }
      if (expr in vars) return vars[expr]!;
      throw new InterpolationError(`unknown variable \${${expr}}`, path);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], vars, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], vars, env)]));
  return value;
}

/** The workflow's view of a configured agent: what a run needs to know, frozen at start. */
export function agentSpec(config: AirlockConfig, name: string): AgentSpec {
  const agent = config.agents[name];
  if (!agent) throw new Error(`unknown agent "${name}"`);
  return {
    name,
    servers: agent.servers,
    maxSteps: agent.maxSteps,
    phase: agent.autonomy,
    approvalDefaults: { group: agent.approvals.group, expiresMs: agent.approvals.expiresAfter },
    localPlanning: agent.model === 'embedded' && !config.routing.routes.some((r) => (r.task === 'plan' || r.task === '*') && (!r.agents || r.agents.includes(name))),
    ...(agent.budget || config.routing.budgets.perRun ? { budget: agent.budget ?? config.routing.budgets.perRun } : {}),
    ...(agent.graph ? { graph: true } : {}),
  };
}
