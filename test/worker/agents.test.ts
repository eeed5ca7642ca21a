// Agent modules (`agents.<name>.graph`) before any bundling: the config key, `airlock/agent` in Node, the checks that
// stop a start with one line naming the file (no default export, a graph that does not build or is not compiled, I/O in
// the agent's code), agent files outside the repository, and the bundle's cache key following the agent's sources.
import { defineAgent, isAgentDefinition } from 'airlock/agent';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, ROOT, type AirlockConfig } from '../../src/config/load.js';
import * as sdk from '../../src/agent/index.js';
import { AgentBundleError, agentModules, checkAgents, stripSource, type AgentModule } from '../../src/worker/agents.js';
import { bundleCacheKey } from '../../src/worker/bundle.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'agents');
const CONFIG = join(FIXTURES, 'airlock.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'airlock-agents-'));
const config = loadConfig({ file: CONFIG, env: { AIRLOCK_DATA_DIR: tmp } });

/** The line of `agents.<name>.graph` in the fixture config. */
function graphLine(name: string): number {
  const lines = readFileSync(CONFIG, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim() === `${name}:`);
  return at + 1 + lines.slice(at).findIndex((l) => l.trim().startsWith('graph:'));
}

/** Checks one configured agent; returns the error it gives. */
async function checkError(name: string): Promise<AgentBundleError> {
  const agent = agentModules(config).find((a) => a.name === name)!;
  try {
    await checkAgents([agent], config.configFile);
  } catch (err) {
    assert.ok(err instanceof AgentBundleError, `expected an AgentBundleError, got ${(err as Error).stack}`);
    assert.ok(err instanceof ConfigError, 'the CLI prints it as a config error, in one line');
    assert.equal(err.agent, name);
    assert.equal(err.module, agent.file);
    assert.ok(!err.message.includes('\n'), err.message);
    assert.ok(err.message.startsWith(`${CONFIG}:${graphLine(name)}: agents.${name}.graph: `), err.message);
    return err;
  }
  assert.fail(`${name} passed the checks`);
}

describe('agent modules: config', () => {
  test('agents.<name>.graph is resolved against the config file', () => {
    assert.deepEqual(
      agentModules(config).map((a) => a.name),
      ['calls-fetch', 'good', 'imports-fs', 'no-default', 'not-agent', 'throws-in-build', 'uncompiled', 'uses-timer'],
    );
    assert.equal(config.agents.good!.graph, join(FIXTURES, 'good.ts'));
    assert.equal(config.agents['uses-timer']!.graph, join(FIXTURES, 'usesTimer.ts'));
    assert.deepEqual(agentModules({ agents: {} } as unknown as AirlockConfig), []);
  });

  test('a graph file that does not exist is a config error at its line', () => {
    const file = join(tmp, 'missing.yaml');
    mkdirSync(join(tmp, 'policies'), { recursive: true });
    writeFileSync(file, 'servers:\n  crm: { transport: stdio, command: node }\nagents:\n  a:\n    servers: [crm]\n    graph: agents/nowhere.ts\n');
    assert.throws(
      () => loadConfig({ file, env: { AIRLOCK_DATA_DIR: tmp } }),
      (err: unknown) => err instanceof ConfigError && err.line === 6 && err.message.startsWith(`${file}:6:12: agents.a.graph: no such file ${join(tmp, 'agents', 'nowhere.ts')}`),
    );
    writeFileSync(file, 'servers:\n  crm: { transport: stdio, command: node }\nagents:\n  a:\n    servers: [crm]\n    graph: policies\n');
    assert.throws(() => loadConfig({ file, env: { AIRLOCK_DATA_DIR: tmp } }), /agents\.a\.graph: no such file/);
  });
});

describe('agent modules: airlock/agent under Node', () => {
  test('resolves by the package self-reference to src/agent/index.ts', async () => {
    assert.equal(defineAgent, sdk.defineAgent, 'the same module as the SDK source');
    const good = (await import('../fixtures/agents/good.js')) as { default: unknown };
    assert.ok(isAgentDefinition(good.default));
    assert.equal((good.default as sdk.AgentDefinition).options.onRejected, 'return');
  });
});

describe('agent modules: checks', () => {
  test('a good agent passes: it loads, default-exports defineAgent(...) and builds a compiled graph', async () => {
    await checkAgents(
      agentModules(config).filter((a) => a.name === 'good'),
      config.configFile,
    );
  });

  test('no default export', async () => {
    const e = await checkError('no-default');
    assert.match(e.message, /agents\.no-default\.graph: \S+noDefault\.ts does not default-export defineAgent\(\.\.\.\)$/);
  });

  test('a default export that is not defineAgent(...)', async () => {
    const e = await checkError('not-agent');
    assert.match(e.message, /notAgent\.ts does not default-export defineAgent\(\.\.\.\)$/);
  });

  test('a graph that throws while being built', async () => {
    const e = await checkError('throws-in-build');
    assert.match(e.message, /throwsInBuild\.ts: the graph does not build: this agent needs at least one tool$/);
  });

  test('a graph that is not compiled', async () => {
    const e = await checkError('uncompiled');
    assert.match(e.message, /uncompiled\.ts does not return a compiled graph \(call \.compile\(\)\)$/);
  });

  test('fetch() in the agent module', async () => {
    const e = await checkError('calls-fetch');
    assert.match(e.message, /callsFetch\.ts:8 calls fetch\(\): agent code runs in the workflow sandbox; do I\/O through ctx\.model\(\) \/ ctx\.tools\(\)$/);
  });

  test('setTimeout() in a file the agent imports', async () => {
    const e = await checkError('uses-timer');
    assert.match(e.message, /lib\/pause\.ts:2 calls setTimeout\(\) \(imported by \S+usesTimer\.ts\): agent code runs in the workflow sandbox; timers come from the workflow API/);
  });

  test('process.env, and a module that does not load; without a config file the error names the module', async () => {
    const dir = mkdtempSync(join(tmp, 'env-'));
    const envAgent = join(dir, 'env.ts');
    writeFileSync(
      envAgent,
      "import { defineAgent } from 'airlock/agent';\n// process.env in a comment is fine\nconst key = process.env.API_KEY;\nexport default defineAgent(() => ({ invoke: async () => key }));\n",
    );
    await assert.rejects(checkAgents([{ name: 'env', file: envAgent }]), (err: unknown) => {
      assert.ok(err instanceof AgentBundleError);
      assert.equal(err.message, `agents.env.graph: ${envAgent}:3 reads process.env: agent code runs in the workflow sandbox; the sandbox has no environment: read settings from ctx.input`);
      return true;
    });
    const broken = join(dir, 'broken.ts');
    writeFileSync(broken, "import { defineAgent } from 'airlock/agent';\nimport pad from 'no-such-package-anywhere';\nexport default defineAgent(() => ({ invoke: async () => pad }));\n");
    await assert.rejects(checkAgents([{ name: 'broken', file: broken }]), (err: unknown) => {
      assert.ok(err instanceof AgentBundleError);
      assert.match(err.message, /^agents\.broken\.graph: \S+broken\.ts does not load: Cannot find (module|package) 'no-such-package-anywhere'/);
      return true;
    });
  });

  test('agent modules outside the repository get airlock/agent and Airlock\u2019s LangGraph (CommonJS and ESM directories)', async () => {
    const agentSource = [
      "import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';",
      "import { defineAgent } from 'airlock/agent';",
      "export default defineAgent(() => new StateGraph(MessagesAnnotation).addNode('hello', () => ({})).addEdge(START, 'hello').addEdge('hello', END).compile());",
      '',
    ].join('\n');
    const cjs = mkdtempSync(join(tmpdir(), 'airlock-outside-cjs-'));
    writeFileSync(join(cjs, 'agent.ts'), agentSource);
    const esm = mkdtempSync(join(tmpdir(), 'airlock-outside-esm-'));
    writeFileSync(join(esm, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(esm, 'agent.ts'), agentSource);
    await checkAgents([
      { name: 'cjs', file: join(cjs, 'agent.ts') },
      { name: 'esm', file: join(esm, 'agent.ts') },
    ]);
  });
});

describe('agent modules: sources', () => {
  test('comments are blanked for both views, strings only for the scan, lines are kept', () => {
    const src = "const a = 'http://x // y'; // fetch(1)\n/* setTimeout(\n */ const b = `fetch(${1})`;\nfetch(a);\n";
    const { code, scan } = stripSource(src);
    assert.equal(code.length, src.length);
    assert.equal(code.split('\n').length, src.split('\n').length);
    assert.ok(code.includes("'http://x // y'") && !code.includes('fetch(1)') && !code.includes('setTimeout'));
    assert.ok(!scan.includes('http') && scan.includes('\nfetch(a);'));
    assert.equal(scan.indexOf('fetch('), src.lastIndexOf('fetch(a)'));
  });

  test('the bundle cache key follows the agent: its module, the files of its directory, its name; not its node_modules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-agent-key-'));
    const file = join(dir, 'agent.ts');
    copyFileSync(join(FIXTURES, 'good.ts'), file);
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'prompt.ts'), "export const PROMPT = 'one';\n");
    const agents: AgentModule[] = [{ name: 'a', file }];
    const k1 = bundleCacheKey({ agents });
    assert.match(k1, /^[0-9a-f]{16}$/);
    assert.equal(bundleCacheKey({ agents }), k1, 'stable');
    assert.notEqual(bundleCacheKey(), k1, 'a bundle without agents differs');
    writeFileSync(file, `${readFileSync(file, 'utf8')}// changed\n`);
    const k2 = bundleCacheKey({ agents });
    assert.notEqual(k2, k1, 'the agent module changed');
    writeFileSync(join(dir, 'lib', 'prompt.ts'), "export const PROMPT = 'two';\n");
    const k3 = bundleCacheKey({ agents });
    assert.notEqual(k3, k2, 'a file of its directory changed');
    mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
    assert.equal(bundleCacheKey({ agents }), k3, 'node_modules are packages, keyed by the lockfile');
    assert.notEqual(bundleCacheKey({ agents: [{ name: 'b', file }] }), k3, 'the name it is registered under');
  });
});
