import { bundleWorkflowCode, type BundleOptions as TemporalBundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { disallowedModules, moduleMatches } from '@temporalio/worker/lib/workflow/bundler.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT, type AirlockConfig } from '../config/load.js';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../observability/tracing.js';
import { AGENT_API, AgentBundleError, agentHashFiles, agentModules, agentOwning, checkAgents, type AgentModule } from './agents.js';
import { STACK_TRACE_LIMIT_MARK } from './loaders/stackTraceLimit.js';
import { UUID6_STATE_GLOBAL } from './loaders/uuid6State.js';

export const WORKFLOWS_DIR = join(ROOT, 'workflows');
/** The governance core: pure, and bundled with the workflows that import it. */
const CORE_DIR = join(ROOT, 'src', 'core');
/** The agent SDK (`airlock/agent`), bundled with the agent modules that import it. */
const AGENT_SDK_DIR = join(ROOT, 'src', 'agent');
/** Webpack loaders that make LangGraph safe in the sandbox (below). */
const LOADERS_DIR = join(ROOT, 'src', 'worker', 'loaders');
/** Bundles, by cache key. */
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'airlock');
/**
 * Generated bundle entries (the workflows plus the configured agents). Inside the project on purpose: Temporal's bundler
 * compiles `.ts` only outside node_modules, and resolves @temporalio/workflow from next to the entry.
 */
export const BUILD_DIR = join(ROOT, '.airlock-build');
/**
 * Workflow interceptors bundled with the workflows (a prebuilt bundle ignores the worker's own
 * `interceptors.workflowModules`): OpenTelemetry spans for the run and the activities it schedules,
 * exported through the worker's `exporter` sink (src/observability/tracing.ts).
 */
const INTERCEPTOR_MODULES = [WORKFLOW_TRACING_INTERCEPTORS];
/**
 * Evaluated once per workflow thread and shared by every run in it (workflows/preload.ts): LangGraph
 * and LangChain core, instead of a fresh copy of their modules for every run the thread starts or replays.
 */
const PRELOAD_MODULES = [join(WORKFLOWS_DIR, 'preload.ts')];

type WebpackConfig = Parameters<NonNullable<TemporalBundleOptions['webpackConfigHook']>>[0];

/**
 * LangGraph in the frozen, shared sandbox (src/worker/loaders/): its `Error.stackTraceLimit` assignments become no-ops
 * where `Error` is frozen, and the checkpoint-id counter of langgraph-checkpoint becomes per run (replay computes the
 * same ids). A loader that finds nothing to patch fails the bundle, and the bundle is checked for both patches.
 */
const LANGGRAPH_RULES = [
  { test: /[\\/]@langchain[\\/]langgraph[\\/]dist[\\/]errors\.c?js$/, use: [{ loader: join(LOADERS_DIR, 'stackTraceLimit.ts') }] },
  { test: /[\\/]@langchain[\\/]langgraph-checkpoint[\\/]dist[\\/]id\.c?js$/, use: [{ loader: join(LOADERS_DIR, 'uuid6State.ts') }] },
];

export interface BundleOptions {
  /** Agent modules to bundle and register under their names (`agents.<name>.graph`). */
  agents?: AgentModule[];
  /** The config file, for error locations. */
  configFile?: string;
  /** The workflows module (default: workflows/index.ts). */
  workflowsPath?: string;
  /** Where bundles are cached (default: node_modules/.cache/airlock); `false` bundles every time. */
  cacheDir?: string | false;
}

function hashFiles(h: ReturnType<typeof createHash>, files: string[]): void {
  for (const f of files) h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
}

const filesIn = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(dir, e.name))
    .sort();

/**
 * The bundle's cache key: workflows/, the core, the agent SDK, the loaders, this file and the agent checks, the lockfile, and each agent
 * module with every code file of its directory (and the relative files it imports), so that a changed agent rebuilds.
 */
export function bundleCacheKey(opts: Pick<BundleOptions, 'agents' | 'workflowsPath'> = {}): string {
  const h = createHash('sha256');
  const workflowsPath = resolve(opts.workflowsPath ?? join(WORKFLOWS_DIR, 'index.ts'));
  const dirs = [WORKFLOWS_DIR, CORE_DIR, AGENT_SDK_DIR, LOADERS_DIR];
  if (!dirs.includes(dirname(workflowsPath))) dirs.push(dirname(workflowsPath));
  for (const dir of dirs) hashFiles(h, filesIn(dir));
  // This file (webpack settings) and the agent checks: a cached bundle skips the checks.
  hashFiles(h, [join(ROOT, 'src', 'worker', 'bundle.ts'), join(ROOT, 'src', 'worker', 'agents.ts')]);
  h.update(workflowsPath).update('\0').update(INTERCEPTOR_MODULES.join('\0')).update('\0').update(PRELOAD_MODULES.join('\0'));
  for (const a of opts.agents ?? []) {
    h.update(`\0agent\0${a.name}\0${resolve(a.file)}\0`);
    hashFiles(h, agentHashFiles(a.file));
  }
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(lock)) h.update(readFileSync(lock));
  return h.digest('hex').slice(0, 16);
}

/**
 * The webpack bundle of workflows/ (with the core it imports) and of the configured agent modules, cached on disk by a
 * hash of their sources and the lockfile: bundling LangGraph takes seconds, and every worker process would otherwise
 * repeat it. Agent modules are checked first (src/worker/agents.ts): a broken one throws an AgentBundleError naming its
 * file. Without a config (tests, replay, bench) the bundle carries no agents.
 */
export async function workflowBundle(config?: Pick<AirlockConfig, 'agents' | 'configFile'>): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflows(config ? { agents: agentModules(config), configFile: config.configFile } : {});
}

export async function bundleWorkflows(opts: BundleOptions = {}): Promise<WorkflowBundleWithSourceMap> {
  const agents = opts.agents ?? [];
  const workflowsPath = resolve(opts.workflowsPath ?? join(WORKFLOWS_DIR, 'index.ts'));
  const key = bundleCacheKey({ agents, workflowsPath });
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const cached = cacheDir ? join(cacheDir, `workflows-${key}.json`) : undefined;
  // A cached bundle was built from these very sources, after their checks passed.
  if (cached && existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as WorkflowBundleWithSourceMap;
  await checkAgents(agents, opts.configFile);
  const entry = agents.length ? writeEntry(key, workflowsPath, agents) : workflowsPath;
  let bundle: WorkflowBundleWithSourceMap;
  try {
    bundle = await runBundler(entry, agents, opts.configFile);
  } finally {
    // Only needed while webpack reads it (and a stray .ts file would trip the tree's lint).
    if (entry !== workflowsPath) rmSync(entry, { force: true });
  }
  if (cacheDir && cached) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(bundle));
    renameSync(tmp, cached);
  }
  return bundle;
}

/**
 * The bundle's entry: the workflows, the LangChain run context, and each agent module registered under its name.
 * One per process: workers that start together each bundle from their own.
 */
function writeEntry(key: string, workflowsPath: string, agents: AgentModule[]): string {
  const file = join(BUILD_DIR, `workflows-${key}-${process.pid}.ts`);
  const text = [
    '// Generated by src/worker/bundle.ts: the workflows and the configured agent modules (agents.<name>.graph). Do not edit.',
    `import ${JSON.stringify(join(WORKFLOWS_DIR, 'langchainContext.ts'))};`,
    `export * from ${JSON.stringify(workflowsPath)};`,
    `import { registerAgent } from ${JSON.stringify(join(WORKFLOWS_DIR, 'agents.ts'))};`,
    ...agents.flatMap((a, i) => [`import agent${i} from ${JSON.stringify(resolve(a.file))};`, `registerAgent(${JSON.stringify(a.name)}, agent${i});`]),
    '',
  ].join('\n');
  mkdirSync(BUILD_DIR, { recursive: true });
  writeFileSync(file, text);
  return file;
}

interface WebpackModule {
  resource?: string;
}
interface WebpackCompilation {
  moduleGraph: { getIssuer(m: WebpackModule): WebpackModule | null | undefined };
  hooks: { finishModules: { tap(name: string, fn: (modules: Iterable<WebpackModule>) => void): void } };
  errors: Array<Error & { module?: WebpackModule | null }>;
}
interface WebpackCompiler {
  hooks: {
    compilation: { tap(name: string, fn: (c: WebpackCompilation) => void): void };
    afterCompile: { tap(name: string, fn: (c: WebpackCompilation) => void): void };
  };
}

/** Runs Temporal's bundler with Airlock's webpack additions; failures in agent code become AgentBundleErrors. */
async function runBundler(entry: string, agents: AgentModule[], configFile: string | undefined): Promise<WorkflowBundleWithSourceMap> {
  /** Disallowed module requested → the files that requested it. */
  const disallowed = new Map<string, Set<string>>();
  /** Requesting file → its chain of importers, nearest first. */
  const importers = new Map<string, string[]>();
  /** Build errors of modules (a file that does not parse, a package that does not resolve), by file. */
  const moduleErrors: Array<{ file: string; message: string }> = [];
  const recordDisallowed = async ({ request, contextInfo }: { request?: string; contextInfo?: { issuer?: string } }) => {
    const name = request?.startsWith('node:') ? request.slice('node:'.length) : (request ?? '');
    if (request && contextInfo?.issuer && moduleMatches(name, disallowedModules)) {
      const set = disallowed.get(request) ?? new Set<string>();
      disallowed.set(request, set.add(contextInfo.issuer));
    }
    return undefined;
  };
  const agentErrors = {
    apply(compiler: WebpackCompiler) {
      compiler.hooks.compilation.tap('airlock-agents', (compilation) => {
        compilation.hooks.finishModules.tap('airlock-agents', (modules) => {
          const wanted = new Set([...disallowed.values()].flatMap((s) => [...s]));
          for (const m of modules) {
            if (!m.resource || !wanted.has(m.resource)) continue;
            const chain: string[] = [];
            for (let cur: WebpackModule | null | undefined = m; cur && chain.length < 100; cur = compilation.moduleGraph.getIssuer(cur)) if (cur.resource) chain.push(cur.resource);
            importers.set(m.resource, chain);
          }
        });
      });
      compiler.hooks.afterCompile.tap('airlock-agents', (compilation) => {
        for (const e of compilation.errors) if (e.module?.resource) moduleErrors.push({ file: e.module.resource, message: e.message });
      });
    },
  };
  const webpackConfigHook = (config: WebpackConfig): WebpackConfig => {
    config.module = { ...config.module, rules: [...(config.module?.rules ?? []), ...LANGGRAPH_RULES] };
    config.resolve = {
      ...config.resolve,
      // `airlock/agent` for agent modules anywhere; inside the repository, package.json `exports` says the same.
      alias: { ...(config.resolve?.alias as Record<string, string | false>), 'airlock/agent$': AGENT_API },
      // After the usual node_modules lookup: agent modules outside the repository get Airlock's LangGraph, not a copy.
      modules: [...(config.resolve?.modules ?? ['node_modules']), join(ROOT, 'node_modules')],
    };
    const externals = config.externals;
    config.externals = [recordDisallowed, ...(externals === undefined ? [] : Array.isArray(externals) ? externals : [externals])] as WebpackConfig['externals'];
    config.plugins = [...(config.plugins ?? []), agentErrors as never];
    return config;
  };
  const output: string[] = [];
  const keep = (m: string, meta?: unknown) => void output.push(meta === undefined ? m : `${m} ${JSON.stringify(meta)}`);
  const noop = () => {};
  let bundle: WorkflowBundleWithSourceMap;
  try {
    bundle = await bundleWorkflowCode({
      workflowsPath: entry,
      workflowInterceptorModules: INTERCEPTOR_MODULES,
      preloadModules: PRELOAD_MODULES,
      webpackConfigHook,
      logger: { trace: noop, debug: noop, info: noop, warn: noop, error: keep, log: noop },
    });
  } catch (err) {
    const failure = agentFailure(agents, configFile, disallowed, importers, moduleErrors);
    if (failure) throw failure;
    for (const line of output) console.error(line);
    throw err;
  }
  for (const [mark, what] of [
    [STACK_TRACE_LIMIT_MARK, 'the Error.stackTraceLimit patch of @langchain/langgraph (src/worker/loaders/stackTraceLimit.ts)'],
    [UUID6_STATE_GLOBAL, 'the uuid6 counter patch of @langchain/langgraph-checkpoint (src/worker/loaders/uuid6State.ts)'],
  ] as const) {
    if (!bundle.code.includes(mark)) throw new Error(`the workflow bundle lacks ${what}: did LangGraph move the file it patches?`);
  }
  return bundle;
}

/** The first bundling failure that agent code caused, as an error naming the agent's file. */
function agentFailure(
  agents: AgentModule[],
  configFile: string | undefined,
  disallowed: Map<string, Set<string>>,
  importers: Map<string, string[]>,
  moduleErrors: Array<{ file: string; message: string }>,
): AgentBundleError | undefined {
  for (const [request, issuers] of disallowed) {
    for (const issuer of issuers) {
      for (const file of importers.get(issuer) ?? [issuer]) {
        const agent = agentOwning(file, agents);
        if (!agent) continue;
        const through = issuer === resolve(agent.file) ? '' : ` (through ${issuer})`;
        return new AgentBundleError(
          agent.name,
          agent.file,
          `${agent.file} imports ${request}${through}: agent code runs in the workflow sandbox; do I/O through ctx.model() / ctx.tools()`,
          configFile,
        );
      }
    }
  }
  for (const { file, message } of moduleErrors) {
    const agent = agentOwning(file, agents);
    const detail = message.split('\n').find((l) => l.trim() && !l.startsWith('Module ')) ?? message.split('\n')[0]!;
    if (agent) return new AgentBundleError(agent.name, agent.file, `${file}: ${detail.trim()}`, configFile);
  }
  return undefined;
}

export { AgentBundleError };
