// The worker's workflow bundle with agent modules, built by the real bundler: agents inside and outside the repository
// are registered under their names and their graphs run in the sandbox (Temporal's time-skipping test server), runs
// replay, the LangGraph patches are in; an agent whose code imports a Node built-in stops the start naming its file.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadConfig, ROOT } from '../../src/config/load.js';
import { workflowTracingSinks } from '../../src/observability/tracing.js';
import { temporalTestServer } from '../../src/temporal/binary.js';
import { AgentBundleError } from '../../src/worker/agents.js';
import { BUILD_DIR, bundleWorkflows, workflowBundle } from '../../src/worker/bundle.js';
import { STACK_TRACE_LIMIT_MARK } from '../../src/worker/loaders/stackTraceLimit.js';
import { UUID6_STATE_GLOBAL } from '../../src/worker/loaders/uuid6State.js';
import type { ProbeResult } from '../fixtures/agents/probeWorkflow.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'agents');
const CONFIG = join(FIXTURES, 'airlock.yaml');

/** An agent module outside the repository, with no node_modules of its own above it. */
function outsideAgent(): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-outside-agent-'));
  const file = join(dir, 'hello.ts');
  writeFileSync(
    file,
    [
      "import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';",
      "import { defineAgent } from 'airlock/agent';",
      '',
      "export default defineAgent(() => new StateGraph(MessagesAnnotation).addNode('hello', () => ({ messages: [{ role: 'assistant', content: 'hello from outside' }] })).addEdge(START, 'hello').addEdge('hello', END).compile());",
      '',
    ].join('\n'),
  );
  return file;
}

describe('workflow bundle with agent modules', () => {
  let bundle: WorkflowBundleWithSourceMap;

  before(async () => {
    bundle = await bundleWorkflows({
      workflowsPath: join(FIXTURES, 'probeWorkflow.ts'),
      agents: [
        { name: 'good', file: join(FIXTURES, 'good.ts') },
        { name: 'outside', file: outsideAgent() },
      ],
      configFile: CONFIG,
      cacheDir: false,
    });
  });

  test('the bundle registers each agent under its name and carries both LangGraph patches', () => {
    assert.match(bundle.code, /registerAgent\)?\("good", /);
    assert.match(bundle.code, /registerAgent\)?\("outside", /);
    assert.ok(bundle.code.includes(STACK_TRACE_LIMIT_MARK), 'Error.stackTraceLimit patch');
    assert.ok(bundle.code.includes(`globalThis.${UUID6_STATE_GLOBAL}`), 'uuid6 counter patch');
    assert.doesNotMatch(bundle.code, /let lastMsecs = 0;/);
    assert.deepEqual(
      (existsSync(BUILD_DIR) ? readdirSync(BUILD_DIR) : []).filter((f) => f.endsWith(`-${process.pid}.ts`)),
      [],
      'the generated entry is removed after bundling',
    );
  });

  test('agent graphs run in the sandbox, several runs in one thread, and their histories replay', async () => {
    const path = temporalTestServer({ root: ROOT, env: process.env as Record<string, string> }, false);
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    try {
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'agents-probe', workflowBundle: bundle, sinks: workflowTracingSinks(), workflowThreadPoolSize: 1 });
      const handles = await worker.runUntil(async () => {
        const started = await Promise.all([1, 2, 3].map((i) => env.client.workflow.start('probeAgentsWorkflow', { taskQueue: 'agents-probe', workflowId: `agents-probe-${i}-${Date.now()}` })));
        for (const h of started) {
          const r = (await h.result()) as ProbeResult;
          assert.deepEqual(r.agents, ['good', 'outside']);
          assert.equal(r.react, 'the sum is 5', 'createReactAgent over ctx.model() and ctx.tools()');
          assert.equal(r.outside, 'hello from outside');
          assert.deepEqual({ ...(r.interrupt as object), id: undefined }, { asked: ['proceed?'], answer: 'answer: yes', id: undefined }, 'interrupt() and its resume');
          assert.deepEqual(r.mergedSignal, { before: false, after: true, reason: 'stop' }, 'LangChain merges abort signals with AbortSignal.any');
          assert.match(String(r.timeout), /^error: AbortSignal\.timeout\(1000\) is not available in workflow code/);
        }
        return started;
      });
      const histories = await Promise.all(handles.map(async (h) => ({ workflowId: h.workflowId, history: await h.fetchHistory() })));
      for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, sinks: workflowTracingSinks() }, histories)) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error}`);
    } finally {
      await env.teardown();
    }
  });

  test('an agent whose code imports node:fs stops the start, naming the agent, its file and the fix', async () => {
    const config = loadConfig({ file: CONFIG, env: { AIRLOCK_DATA_DIR: mkdtempSync(join(tmpdir(), 'airlock-bundle-')) } });
    const agent = config.agents['imports-fs']!;
    const line = readFileSync(CONFIG, 'utf8').split('\n').indexOf('    graph: importsFs.ts') + 1;
    const errors: unknown[] = [];
    const consoleError = console.error;
    console.error = (...a: unknown[]) => void errors.push(a);
    try {
      await assert.rejects(workflowBundle({ ...config, agents: { 'imports-fs': agent } }), (err: unknown) => {
        assert.ok(err instanceof AgentBundleError, String(err));
        assert.equal(err.message, `${CONFIG}:${line}: agents.imports-fs.graph: ${agent.graph} imports node:fs: agent code runs in the workflow sandbox; do I/O through ctx.model() / ctx.tools()`);
        return true;
      });
    } finally {
      console.error = consoleError;
    }
    assert.deepEqual(errors, [], 'one error, not webpack\u2019s output');
  });
});
