import { Ajv2020 } from 'ajv/dist/2020.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatPath, type ConfigIssue } from './errors.js';
import { ConfigSource, yamlIssue, zodIssues } from './locate.js';
import { resolveDataDir, resolvePaths } from './paths.js';
import { notifySpec } from './notifications.js';
import { FileConfigSchema, type FileConfig } from './schema.js';
import type { AgentSpec } from '../core/types.js';

export { ConfigError, type ConfigIssue } from './errors.js';

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
    const issues = envResult.error.issues.map((i) => ({ file: 'environment', path: formatPath(i.path), message: i.message, fix: `set ${formatPath(i.path)} to a valid value or unset it` }));
    throw new ConfigError(issues, 'environment');
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
  const src = new ConfigSource(file, doc, lines);
  // Syntax errors first, all of them: what the document means past a syntax error is guesswork.
  if (doc.errors.length > 0)
    throw new ConfigError(
      doc.errors.map((e) => yamlIssue(src, e)),
      file,
    );

  const configDir = dirname(file);
  const dataDir = resolveDataDir(env.AIRLOCK_DATA_DIR, doc.getIn(['dataDir']), configDir, ROOT);
  const vars: Record<string, string> = { root: ROOT, dataDir, node: process.execPath, configDir };
  const problems: ConfigIssue[] = [];
  const raw = interpolate(doc.toJS() ?? {}, [], vars, rawEnv, (e) => problems.push(src.at(e.path, src.value(e.path), e.message, e.fix)));
  const parsed = FileConfigSchema.safeParse(raw);
  if (!parsed.success) {
    // A value whose interpolation failed is already reported; its schema complaint would be noise.
    const failed = problems.map((p) => p.path);
    const isUnder = (p: string) => failed.some((f) => p === f || p.startsWith(`${f}.`) || p.startsWith(`${f}[`));
    problems.push(...zodIssues(src, FileConfigSchema, parsed.error.issues).filter((i) => !isUnder(i.path)));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, file);
  const cfg = parsed.data;
  resolvePaths(cfg, configDir, dataDir);
  if (env.AIRLOCK_API_HOST) cfg.api.host = env.AIRLOCK_API_HOST;
  if (env.AIRLOCK_API_PORT !== undefined) cfg.api.port = env.AIRLOCK_API_PORT;
  if (env.AIRLOCK_TEMPORAL_ADDRESS) cfg.temporal.address = env.AIRLOCK_TEMPORAL_ADDRESS;
  if (env.AIRLOCK_TEMPORAL_NAMESPACE) cfg.temporal.namespace = env.AIRLOCK_TEMPORAL_NAMESPACE;
  if (env.AIRLOCK_TEMPORAL_CLI) cfg.temporal.cli = env.AIRLOCK_TEMPORAL_CLI;
  if (env.AIRLOCK_TEMPORAL_PORT !== undefined) cfg.temporal.devServer.port = env.AIRLOCK_TEMPORAL_PORT;
  if (env.AIRLOCK_TEMPORAL_UI_PORT !== undefined) cfg.temporal.devServer.uiPort = env.AIRLOCK_TEMPORAL_UI_PORT;
  if (env.AIRLOCK_TASK_QUEUE) cfg.temporal.taskQueue = env.AIRLOCK_TASK_QUEUE;
  opts.overrides?.(cfg);
  const refs = checkReferences(cfg, src);
  if (refs.length > 0) throw new ConfigError(refs, file);
  return { ...cfg, root: ROOT, configFile: file, logLevel: env.AIRLOCK_LOG_LEVEL, env: rawEnv };
}

/** What the schema cannot see: files that must exist and names that must refer to something configured. */
function checkReferences(cfg: FileConfig, src: ConfigSource): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const add = (path: PropertyKey[], message: string, fix: string) => out.push(src.at(path, src.value(path), message, fix));
  const tls = cfg.temporal.tls;
  if (typeof tls === 'object') {
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      const f = tls[key];
      if (f && !existsSync(f)) add(['temporal', 'tls', key], `no such file ${f}`, 'give a path relative to the config file');
    }
  }
  if (!existsSync(cfg.policy.dir)) add(['policy', 'dir'], `no such directory ${cfg.policy.dir}`, 'give a directory of *.cedar files and schema.cedarschema, relative to the config file');
  for (const [id, s] of Object.entries(cfg.servers)) {
    // Only the file is checked here; it is imported when the server starts (a bad export fails start-up then).
    if (s.transport === 'http' && s.demo && !existsSync(s.demo.module)) add(['servers', id, 'demo', 'module'], `no such file ${s.demo.module}`, 'give a module path relative to the config file');
  }
  const ajv = new Ajv2020({ strict: false });
  const models = (m: string) => (m === 'embedded' ? true : Boolean(cfg.models[m]));
  const modelFix = `use "embedded" or one of models: ${Object.keys(cfg.models).join(', ') || '(none configured)'}`;
  for (const [name, agent] of Object.entries(cfg.agents)) {
    agent.servers.forEach((s, i) => {
      if (!cfg.servers[s]) add(['agents', name, 'servers', i], `unknown server "${s}"`, `define it under servers, or use one of ${Object.keys(cfg.servers).join(', ') || '(none configured)'}`);
    });
    // Only the file is checked here; the worker loads, checks and bundles the module (src/worker/agents.ts).
    if (agent.graph && !(existsSync(agent.graph) && statSync(agent.graph).isFile())) add(['agents', name, 'graph'], `no such file ${agent.graph}`, 'give a module path relative to the config file');
    if (!models(agent.model)) add(['agents', name, 'model'], `unknown model provider "${agent.model}"`, modelFix);
    try {
      ajv.compile(agent.inputSchema);
    } catch (err) {
      add(['agents', name, 'inputSchema'], `invalid JSON Schema: ${(err as Error).message}`, 'write a JSON Schema (draft 2020-12), e.g. {type: object}');
    }
    for (const key of ['playbook', 'onFailure'] as const)
      agent[key].forEach((s, i) => {
        if (!agent.servers.includes(s.tool.split('.')[0]!))
          add(['agents', name, key, i], `"${s.tool}" is not on a server of this agent`, `add its server to agents.${name}.servers, or name a tool of ${agent.servers.join(', ')}`);
      });
    if (agent.graph && agent.onFailure.length > 0)
      add(['agents', name, 'onFailure'], 'onFailure runs only in the built-in agent, not in a graph', 'handle failures in the graph itself, or remove onFailure');
  }
  const reviewer = cfg.registry.review?.model;
  if (reviewer !== undefined && !cfg.models[reviewer])
    add(
      ['registry', 'review', 'model'],
      `unknown model provider "${reviewer}"`,
      `name one of models: ${Object.keys(cfg.models).join(', ') || '(none configured)'} (the embedded planner cannot review)`,
    );
  cfg.routing.routes.forEach((r, i) => {
    r.models.forEach((m, j) => {
      if (!models(m)) add(['routing', 'routes', i, 'models', j], `unknown model provider "${m}"`, modelFix);
    });
    r.agents?.forEach((a, j) => {
      if (!cfg.agents[a]) add(['routing', 'routes', i, 'agents', j], `unknown agent "${a}"`, `use one of agents: ${Object.keys(cfg.agents).join(', ') || '(none configured)'}`);
    });
  });
  for (const a of Object.keys(cfg.routing.budgets.perAgent)) {
    if (!cfg.agents[a]) add(['routing', 'budgets', 'perAgent', a], `unknown agent "${a}"`, `use one of agents: ${Object.keys(cfg.agents).join(', ') || '(none configured)'}`);
  }
  return out;
}

type InterpolationProblem = { path: PropertyKey[]; message: string; fix: string };

/**
 * Replaces `${root}`, `${dataDir}`, `${node}`, `${configDir}` and `${env.NAME:-default}` in string values. A reference
 * that cannot be replaced is reported and left as written, so every other problem is still found.
 */
function interpolate(value: unknown, path: PropertyKey[], vars: Record<string, string>, env: Record<string, string | undefined>, report: (p: InterpolationProblem) => void): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([^}]+)\}/g, (whole, expr: string) => {
      const envRef = /^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/.exec(expr);
      if (envRef) {
        const v = env[envRef[1]!] ?? envRef[2];
        if (v === undefined) report({ path, message: `environment variable ${envRef[1]} is not set`, fix: `set ${envRef[1]}, or give a default: \${env.${envRef[1]}:-value}` });
        return v ?? whole;
      }
      if (expr in vars) return vars[expr]!;
      report({ path, message: `unknown variable \${${expr}}`, fix: `use \${root}, \${dataDir}, \${configDir}, \${node} or \${env.NAME}` });
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], vars, env, report));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], vars, env, report)]));
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
    ...(Object.keys(agent.facts).length > 0 ? { facts: agent.facts } : {}),
    ...(agent.onFailure.length > 0 ? { onFailure: agent.onFailure } : {}),
    ...notifyOf(config, name),
    inputLabels: { classification: agent.inputClassification, trust: agent.inputTrust },
  };
}

/** The notification routes that apply to the agent's runs (none: the run schedules no notification). */
function notifyOf(config: AirlockConfig, name: string): Pick<AgentSpec, 'notify'> {
  const notify = notifySpec(config.notifications, name);
  return notify ? { notify } : {};
}
