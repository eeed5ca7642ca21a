// Agent modules (`agents.<name>.graph`): found in the config, checked before the worker bundles them into its workflow
// bundle (src/worker/bundle.ts), so a broken agent stops the start with one line naming its file, never a run later.
// The checks: the module's own source (and the relative files it imports) does no I/O, it loads in Node, default-exports
// defineAgent(...), and its build(ctx) returns a compiled graph with a stub context.
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { ChatResult } from '@langchain/core/outputs';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import Module, { register } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { isAgentDefinition, type AgentContext } from '../agent/define.js';
import { ConfigError, ROOT, type AirlockConfig } from '../config/load.js';

/** A configured agent module: `agents.<name>.graph`, resolved against the config file. */
export interface AgentModule {
  name: string;
  file: string;
}

/** What `airlock/agent` means, in Node (package.json `exports`) and in the bundle (a webpack alias). */
export const AGENT_API = join(ROOT, 'src', 'agent', 'index.ts');

export function agentModules(config: Pick<AirlockConfig, 'agents'>): AgentModule[] {
  return Object.entries(config.agents)
    .filter(([, a]) => a.graph)
    .map(([name, a]) => ({ name, file: a.graph! }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * An agent module that cannot run: its file and what to do, located at `agents.<name>.graph` in the config file when
 * there is one. A ConfigError, so `airlock start` / `airlock worker` print it as one line and exit 1.
 */
export class AgentBundleError extends ConfigError {
  constructor(
    readonly agent: string,
    readonly module: string,
    problem: string,
    configFile?: string,
  ) {
    const message = `agents.${agent}.graph: ${problem}`;
    super(message, configFile ?? module, configFile ? graphLine(configFile, agent) : undefined);
    if (!configFile) this.message = message;
  }
}

/** The line of `agents.<name>.graph` (else of `agents.<name>`) in the config file. */
function graphLine(configFile: string, agent: string): number | undefined {
  try {
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(configFile, 'utf8'), { lineCounter: lines });
    for (const path of [
      ['agents', agent, 'graph'],
      ['agents', agent],
    ]) {
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lines.linePos(node.range[0]).line;
    }
  } catch {
    // no line then: the message still names both files
  }
  return undefined;
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

// ---------------------------------------------------------------------------------------------------------------------
// Sources: what an agent's code is made of (for the I/O check and the bundle's cache key).

const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

/** Comments blanked (`code`); comments and string contents blanked (`scan`). Newlines stay, so offsets give lines. */
export function stripSource(src: string): { code: string; scan: string } {
  let code = '';
  let scan = '';
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      const j = end === -1 ? src.length : end;
      code += blank(src.slice(i, j));
      scan += blank(src.slice(i, j));
      i = j;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const j = end === -1 ? src.length : end + 2;
      code += blank(src.slice(i, j));
      scan += blank(src.slice(i, j));
      i = j;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c && !(c !== '`' && src[j] === '\n')) j += src[j] === '\\' ? 2 : 1;
      j = Math.min(j + 1, src.length);
      code += src.slice(i, j);
      scan += c + blank(src.slice(i + 1, j - 1)) + (j - i > 1 ? src[j - 1] : '');
      i = j;
    } else {
      code += c;
      scan += c;
      i++;
    }
  }
  return { code, scan };
}

const RELATIVE_IMPORT = [
  /\b(?:import|export)\s[^;]*?\bfrom\s*(['"])(\.{1,2}\/[^'"]*)\1/g,
  /\bimport\s*(['"])(\.{1,2}\/[^'"]*)\1/g,
  /\bimport\s*\(\s*(['"])(\.{1,2}\/[^'"]*)\1\s*\)/g,
  /\brequire\s*\(\s*(['"])(\.{1,2}\/[^'"]*)\1\s*\)/g,
];

/** A relative specifier as TypeScript and webpack resolve it (`./x.js` may be `./x.ts`). */
function resolveRelative(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const ext = extname(base);
  const stem = base.slice(0, base.length - ext.length);
  const candidates = ['.js', '.jsx', '.mjs', '.cjs'].includes(ext)
    ? [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`, base]
    : [base, ...SOURCE_EXTENSIONS.map((e) => base + e), ...SOURCE_EXTENSIONS.map((e) => join(base, `index${e}`))];
  return candidates.find((f) => existsSync(f) && statSync(f).isFile());
}

/** The agent module and every file it reaches through relative imports (not packages: those are libraries). */
export function agentSourceFiles(file: string): string[] {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f) || f.split(sep).includes('node_modules')) return;
    seen.add(f);
    if (!SOURCE_EXTENSIONS.includes(extname(f))) return;
    const { code } = stripSource(readFileSync(f, 'utf8'));
    for (const re of RELATIVE_IMPORT) {
      for (const m of code.matchAll(re)) {
        const target = resolveRelative(f, m[2]!);
        if (target) visit(target);
      }
    }
  };
  visit(resolve(file));
  return [...seen];
}

/** Files whose change must rebuild the bundle: code and JSON under the agent module's directory (no node_modules, no dot directories) and its relative imports. */
export function agentHashFiles(file: string): string[] {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (SOURCE_EXTENSIONS.includes(extname(e.name)) || e.name.endsWith('.json'))) out.add(p);
    }
  };
  walk(dirname(resolve(file)));
  for (const f of agentSourceFiles(file)) out.add(f);
  return [...out].sort();
}

/** Where the workflow sandbox differs from Node, in what agent code could write: each with its fix. */
const SANDBOX_MISUSE: Array<{ re: RegExp; what: string; fix: string }> = [
  { re: /(?<![\w$.])fetch\s*\(/g, what: 'calls fetch()', fix: 'do I/O through ctx.model() / ctx.tools()' },
  { re: /(?<![\w$.])setTimeout\s*\(/g, what: 'calls setTimeout()', fix: 'timers come from the workflow API (sleep() / condition() from @temporalio/workflow)' },
  { re: /(?<![\w$.])setInterval\s*\(/g, what: 'calls setInterval()', fix: 'timers come from the workflow API (sleep() / condition() from @temporalio/workflow)' },
  { re: /\bprocess\s*\.\s*env\b/g, what: 'reads process.env', fix: 'the sandbox has no environment: read settings from ctx.input' },
];

/** The agent's own code (module and relative imports), read for I/O and timers outside comments and strings. */
export function checkAgentSources(agents: AgentModule[], configFile?: string): void {
  for (const a of agents) {
    for (const f of agentSourceFiles(a.file)) {
      if (!SOURCE_EXTENSIONS.includes(extname(f))) continue;
      const { scan } = stripSource(readFileSync(f, 'utf8'));
      for (const { re, what, fix } of SANDBOX_MISUSE) {
        re.lastIndex = 0;
        const m = re.exec(scan);
        if (!m) continue;
        const line = scan.slice(0, m.index).split('\n').length;
        const via = f === resolve(a.file) ? '' : ` (imported by ${a.file})`;
        throw new AgentBundleError(a.name, a.file, `${f}:${line} ${what}${via}: agent code runs in the workflow sandbox; ${fix}`, configFile);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Loading in Node: the module's exports, and its graph built with a stub context.

/** The model a check-time build gets: a chat model that cannot be called (the build must not call it). */
class CheckTimeChatModel extends BaseChatModel {
  _llmType(): string {
    return 'airlock-check';
  }
  async _generate(): Promise<ChatResult> {
    throw new Error('the agent called its model while being built: call models from graph nodes');
  }
  override bindTools(): this {
    return this;
  }
}

function stubContext(agent: string): AgentContext {
  return { runId: 'airlock-agent-check', agent, input: {}, model: () => new CheckTimeChatModel({}), tools: () => [] };
}

let outsideResolution = false;

/**
 * Lets agent modules outside the repository import `airlock/agent` and, when their own directory has no such package,
 * Airlock's own dependencies (@langchain/*), as the bundle does (resolve.alias, resolve.modules). tsx loads a `.ts` file
 * of a directory without `"type": "module"` as CommonJS (require), any other as ESM (import): both are covered.
 */
function resolveOutsideAgents(): void {
  if (outsideResolution) return;
  outsideResolution = true;
  const inRepo = (f: string | undefined) => !!f && (f + sep).startsWith(ROOT + sep) && !f.slice(ROOT.length).split(sep).includes('node_modules');
  const isBare = (s: string) => !/^(\.{1,2}\/|\/|[a-z][a-z0-9+.-]*:)/i.test(s);
  // CommonJS: Node 20's require() does not pass through module.register hooks.
  const M = Module as unknown as { _resolveFilename(request: string, parent: { filename?: string } | undefined, ...rest: unknown[]): string; _nodeModulePaths(dir: string): string[] };
  const root = Object.assign(new Module(join(ROOT, 'package.json')), { filename: join(ROOT, 'package.json'), paths: M._nodeModulePaths(ROOT) });
  const original = M._resolveFilename;
  M._resolveFilename = function (request, parent, ...rest) {
    if (request === 'airlock/agent') return AGENT_API;
    try {
      return original.call(this, request, parent, ...rest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && isBare(request) && !inRepo(parent?.filename)) return original.call(this, request, root, ...rest);
      throw err;
    }
  };
  const hooks = `
const PARENT = ${JSON.stringify(pathToFileURL(join(ROOT, 'package.json')).href)};
const ROOT = ${JSON.stringify(pathToFileURL(ROOT).href + '/')};
const inRepo = (u) => !!u && u.startsWith(ROOT) && !u.slice(ROOT.length).split('/').includes('node_modules');
export async function resolve(specifier, context, next) {
  if (specifier === 'airlock/agent') return next(specifier, { ...context, parentURL: PARENT });
  try {
    return await next(specifier, context);
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && !/^(\\.{1,2}\\/|\\/|[a-z][a-z0-9+.-]*:)/i.test(specifier) && !inRepo(context.parentURL)) return next(specifier, { ...context, parentURL: PARENT });
    throw err;
  }
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

/** Imports each agent module in this process (tsx) and builds its graph with a stub context. */
export async function checkAgentModules(agents: AgentModule[], configFile?: string): Promise<void> {
  for (const a of agents) {
    const fail = (problem: string) => new AgentBundleError(a.name, a.file, problem, configFile);
    if (!(resolve(a.file) + sep).startsWith(ROOT + sep)) resolveOutsideAgents();
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(a.file).href)) as { default?: unknown };
    } catch (err) {
      throw fail(`${a.file} does not load: ${firstLine(err)}`);
    }
    // A module tsx loaded as CommonJS arrives as { default: module.exports }.
    let def = mod.default;
    if (!isAgentDefinition(def) && isAgentDefinition((def as { default?: unknown } | undefined)?.default)) def = (def as { default: unknown }).default;
    if (!isAgentDefinition(def)) throw fail(`${a.file} does not default-export defineAgent(...)`);
    let graph: unknown;
    try {
      graph = def.build(stubContext(a.name));
    } catch (err) {
      throw fail(`${a.file}: the graph does not build: ${firstLine(err)}`);
    }
    const g = graph as { invoke?: unknown; then?: unknown; compile?: unknown } | null | undefined;
    if (typeof g?.then === 'function') throw fail(`${a.file}: build(ctx) returns a Promise: build the graph synchronously and return it compiled`);
    if (typeof g?.invoke !== 'function')
      throw fail(
        `${a.file} does not return a compiled graph${typeof g?.compile === 'function' ? ' (call .compile())' : ': build(ctx) must return a compiled graph (StateGraph...compile(), createReactAgent(...))'}`,
      );
  }
}

/** Every check that needs no bundling, cheapest first. */
export async function checkAgents(agents: AgentModule[], configFile?: string): Promise<void> {
  checkAgentSources(agents, configFile);
  await checkAgentModules(agents, configFile);
}

/** The agent whose own code (module, relative imports or directory, not its packages) a file belongs to. */
export function agentOwning(file: string, agents: AgentModule[]): AgentModule | undefined {
  if (file.split(sep).includes('node_modules')) return undefined;
  const f = resolve(file);
  const inDir = (a: AgentModule) => dirname(resolve(a.file)) !== ROOT && !relative(dirname(resolve(a.file)), f).startsWith('..');
  return agents.find((a) => f === resolve(a.file)) ?? agents.find((a) => agentSourceFiles(a.file).includes(f)) ?? agents.find(inDir);
}
