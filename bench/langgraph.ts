// LangGraph's own persistence vs ours: the agent graph of workflows/agentRun.ts (plan → govern → act,
// looping) run outside Temporal, its nodes calling the worker's activity functions directly, and
// compiled with LangGraph's SQLite checkpointer. The same graph inside Airlock (Temporal history as
// the only persistence) is measured by the runner and passed in as `airlockPerStepMs`.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Annotation, Command, END, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import type { Activities } from '../activities/index.js';
import type { AuditEventInput } from '../src/audit/types.js';
import { agentSpec, type AirlockConfig } from '../src/config/load.js';
import { AgentSchema } from '../src/config/schema.js';
import type { Logger } from '../src/log/logger.js';
import type { AgentSpec, Decision, Json, JsonObject, RunIdentity, StepView } from '../src/core/types.js';
import { ActivityRunner, BENCH_IDENTITY, openActivities, runIn } from './governance.js';
import { BenchFailure, round, stats, type Row, type Section, type Stats } from './lib.js';

/** The runner's read-only agent (bench/run.ts): N × crm.get_account, embedded planner, autonomous. */
export const READER_AGENT = 'bench-reader';
const READ_ARGS = { accountId: 'C-1001' };
const WARMUP_RUNS = 2;

type Outcome = { status: 'completed'; result: Json } | { status: 'failed'; type: string; message: string };

/**
 * The config with a reader agent of exactly `steps` steps: the runner's `bench-reader` when it has
 * that many, else a copy of the config with one added (the caller's config is not changed).
 */
export function withReaderAgent(config: AirlockConfig, steps: number): { config: AirlockConfig; agent: string } {
  const existing = config.agents[READER_AGENT];
  if (existing && existing.playbook.length === steps && existing.servers.includes('crm')) return { config, agent: READER_AGENT };
  const name = `${READER_AGENT}-${steps}`;
  const agent = AgentSchema.parse({
    servers: ['crm'],
    autonomy: 'autonomous',
    maxSteps: steps + 2,
    playbook: Array.from({ length: steps }, () => ({ tool: 'crm.get_account', args: READ_ARGS })),
  });
  return { config: { ...config, agents: { ...config.agents, [name]: agent } }, agent: name };
}

const GraphState = Annotation.Root({
  /** The run's steps (RunState.steps in the workflow). */
  steps: Annotation<StepView[]>({ reducer: (_a, b) => b, default: () => [] }),
  decision: Annotation<Decision | null>({ reducer: (_a, b) => b, default: () => null }),
  outcome: Annotation<Outcome | null>({ reducer: (_a, b) => b, default: () => null }),
  /** Audit events queued by the run, carried by the next activity (RunState's audit queue). */
  audit: Annotation<AuditEventInput[]>({ reducer: (_a, b) => b, default: () => [] }),
});
type S = typeof GraphState.State;

interface RunCtx {
  runId: string;
  runner: ActivityRunner;
  /** The workflow's own audit event sequence (RunState.note). */
  seq: number;
  /** Time spent inside activity functions during this run. */
  activityMs: number;
}

/**
 * The graph of workflows/agentRun.ts without the approval branch (every step is a read that policy
 * allows) and without Temporal: each node awaits the activity function itself.
 */
function buildGraph(acts: Activities, agent: AgentSpec, identity: RunIdentity, input: JsonObject, ctx: () => RunCtx, checkpointer?: BaseCheckpointSaver) {
  const failed = (type: string, message: string, audit: AuditEventInput[] = []) => new Command({ goto: END, update: { outcome: { status: 'failed', type, message }, audit } });
  const note = (type: AuditEventInput['type'], fields: Partial<AuditEventInput> & { data: AuditEventInput['data'] }): AuditEventInput => {
    const c = ctx();
    return {
      eventId: `${c.runner.workflowRunId}/w${++c.seq}`,
      chain: `run:${c.runId}`,
      type,
      at: new Date().toISOString(),
      runId: c.runId,
      principal: identity.subject,
      agent: agent.name,
      ...fields,
    };
  };

  /** Runs an activity in its own context, as a worker would, and counts its time. */
  const exec = async <P extends unknown[], R>(type: string, fn: (...args: P) => Promise<R>, ...args: P): Promise<R> => {
    const c = ctx();
    const env = c.runner.env(type);
    const t0 = performance.now();
    try {
      return await runIn(env, fn, ...args);
    } finally {
      c.activityMs += performance.now() - t0;
    }
  };

  const planNode = async (state: S) => {
    const { runId } = ctx();
    if (state.steps.length >= agent.maxSteps) return failed('StepLimitExceeded', `the agent did not finish within ${agent.maxSteps} steps`);
    const r = await exec('plan', acts.plan, { runId, agent: agent.name, input, steps: state.steps, identity, audit: state.audit });
    const next = r.next;
    if (next.kind === 'fail') return failed('AgentFailed', next.reason);
    if (next.kind === 'final') return new Command({ goto: END, update: { outcome: { status: 'completed', result: next.answer }, audit: [] } });
    const step: StepView = { index: state.steps.length, tool: `${next.call.server}.${next.call.tool}`, args: next.call.args, status: 'proposed', model: r.model };
    return new Command({ goto: 'govern', update: { steps: [...state.steps, step], decision: null, audit: [] } });
  };

  const governNode = async (state: S) => {
    const { runId } = ctx();
    const step = state.steps.at(-1)!;
    const [server, ...rest] = step.tool.split('.');
    const decision = await exec('decide', acts.decide, { runId, step: step.index, agent, identity, call: { server: server!, tool: rest.join('.'), args: step.args }, audit: state.audit });
    const decided: StepView = {
      ...step,
      args: decision.args,
      decision: { outcome: decision.outcome, reason: decision.reason, policyIds: decision.policyIds, policyVersion: decision.policyVersion },
    };
    const steps = [...state.steps.slice(0, -1), decided];
    if (decision.outcome !== 'allow') return failed('PolicyDenied', `${step.tool}: ${decision.outcome}: ${decision.reason}`);
    return new Command({ goto: 'act', update: { steps, decision, audit: [] } });
  };

  const actNode = async (state: S) => {
    const { runId } = ctx();
    const step = state.steps.at(-1)!;
    const decision = state.decision!;
    const [server, ...rest] = step.tool.split('.');
    const call = { server: server!, tool: rest.join('.'), args: step.args };
    const result = await exec('callTool', acts.callTool, { runId, step: step.index, call, audit: state.audit });
    const executed = note('tool.executed', {
      server: call.server,
      tool: call.tool,
      outcome: result.isError ? 'error' : 'success',
      data: { step: step.index, args: step.args, digest: decision.digest, resultDigest: result.digest ?? null, durationMs: result.durationMs ?? null },
    });
    const done: StepView = { ...step, status: 'completed', result };
    return new Command({ goto: 'plan', update: { steps: [...state.steps.slice(0, -1), done], audit: [executed] } });
  };

  const graph = new StateGraph(GraphState)
    .addNode('plan', planNode, { ends: ['govern', END] })
    .addNode('govern', governNode, { ends: ['act', END] })
    .addNode('act', actNode, { ends: ['plan', END] })
    .addEdge(START, 'plan')
    .compile(checkpointer ? { checkpointer } : {});
  return { graph, note, exec };
}

/** LangGraph alone: the same graph shape and state updates with no-op nodes and no checkpointer (ms per tool step, p50). */
async function frameworkPerStep(steps: number, runs: number): Promise<Stats> {
  const result = { isError: false, data: { accountId: 'C-1001' }, digest: '0'.repeat(64), durationMs: 0.3 };
  const graph = new StateGraph(GraphState)
    .addNode(
      'plan',
      async (state: S) => {
        if (state.steps.length >= steps) return new Command({ goto: END, update: { outcome: { status: 'completed', result: null }, audit: [] } });
        const step: StepView = { index: state.steps.length, tool: 'crm.get_account', args: READ_ARGS, status: 'proposed' };
        return new Command({ goto: 'govern', update: { steps: [...state.steps, step], decision: null, audit: [] } });
      },
      { ends: ['govern', END] },
    )
    .addNode('govern', async (state: S) => new Command({ goto: 'act', update: { steps: [...state.steps], audit: [] } }), { ends: ['act', END] })
    .addNode(
      'act',
      async (state: S) => {
        const done: StepView = { ...state.steps.at(-1)!, status: 'completed', result };
        return new Command({ goto: 'plan', update: { steps: [...state.steps.slice(0, -1), done], audit: [] } });
      },
      { ends: ['plan', END] },
    )
    .addEdge(START, 'plan')
    .compile();
  const out: number[] = [];
  for (let i = -WARMUP_RUNS * 5; i < runs * 5; i++) {
    const t0 = performance.now();
    await graph.invoke({}, { recursionLimit: steps * 5 + 10 });
    if (i >= 0) out.push((performance.now() - t0) / steps);
  }
  return stats(out);
}

interface Variant {
  name: string;
  /** What it persists, for the notes. */
  describe: string;
  checkpointer?: BaseCheckpointSaver;
  durability?: 'sync' | 'async' | 'exit';
  perStep: number[];
  /** Per step: time inside activity functions (the rest is LangGraph and its checkpointer). */
  activityPerStep: number[];
}

export async function benchLangGraph(opts: { config: AirlockConfig; steps?: number; runs?: number; log: Logger; airlockPerStepMs?: number }): Promise<Section> {
  const steps = opts.steps ?? 5;
  const runs = opts.runs ?? 20;
  const { config, agent: agentName } = withReaderAgent(opts.config, steps);
  const agent = agentSpec(config, agentName);
  const identity = BENCH_IDENTITY;
  const input: JsonObject = { customerId: 'C-1001' };

  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-langgraph-'));
  const syncFile = join(dir, 'checkpoints-sync.db');
  const asyncFile = join(dir, 'checkpoints-async.db');
  const sqliteSync = SqliteSaver.fromConnString(syncFile);
  const sqliteAsync = SqliteSaver.fromConnString(asyncFile);
  const parts = await openActivities(config, opts.log);
  const variants: Variant[] = [
    {
      name: 'sqlite-sync',
      describe: `SqliteSaver, durability "sync" (each step's checkpoint is written before the next step starts, as Temporal records each activity before the next is scheduled)`,
      checkpointer: sqliteSync,
      durability: 'sync',
      perStep: [],
      activityPerStep: [],
    },
    {
      name: 'sqlite-async',
      describe: 'SqliteSaver, durability "async" (LangGraph\'s default: the checkpoint is written while the next step runs)',
      checkpointer: sqliteAsync,
      durability: 'async',
      perStep: [],
      activityPerStep: [],
    },
    { name: 'memory', describe: 'MemorySaver (checkpoints kept in process memory: not durable)', checkpointer: new MemorySaver(), durability: 'sync', perStep: [], activityPerStep: [] },
    { name: 'none', describe: 'no checkpointer (the graph as the Airlock workflow compiles it; nothing persisted)', perStep: [], activityPerStep: [] },
  ];
  let current: RunCtx = { runId: '', runner: new ActivityRunner('unset'), seq: 0, activityMs: 0 };
  const graphs = variants.map((v) => ({ v, ...buildGraph(parts.activities, agent, identity, input, () => current, v.checkpointer) }));
  const rows: Row[] = [];
  const notes: string[] = [];
  let syncRuns = 0;
  try {
    // One run: the graph from the start event to the completion event written (as agentRunWorkflow's
    // run.started … flushAudit at the end), so every variant writes the same audit records.
    const runOnce = async (g: (typeof graphs)[number], i: number) => {
      const runId = `bench-lg-${g.v.name}-${randomUUID().slice(0, 8)}-${i}`;
      current = { runId, runner: new ActivityRunner(runId), seq: 0, activityMs: 0 };
      const t0 = performance.now();
      const started = g.note('run.started', { data: { inputDigest: null, phase: agent.phase, requester: identity.subject, groups: identity.groups } });
      const final = await g.graph.invoke(
        { audit: [started] },
        { recursionLimit: agent.maxSteps * 5 + 10, configurable: { thread_id: runId }, ...(g.v.durability ? { durability: g.v.durability } : {}) },
      );
      const outcome = final.outcome;
      if (outcome?.status !== 'completed') throw new BenchFailure(`LangGraph run ${runId} (${g.v.name}) did not complete: ${JSON.stringify(outcome)}`);
      if (final.steps.length !== steps) throw new BenchFailure(`LangGraph run ${runId} made ${final.steps.length} steps, not ${steps}`);
      const done = g.note('run.completed', { outcome: 'completed', data: { steps: final.steps.length } });
      await g.exec('audit', parts.activities.audit, { events: [...final.audit, done] });
      const ms = performance.now() - t0;
      if (g.v.name === 'sqlite-sync') syncRuns++;
      return { ms, activityMs: current.activityMs };
    };
    for (let i = 0; i < WARMUP_RUNS; i++) for (const g of graphs) await runOnce(g, -1 - i);
    for (let i = 0; i < runs; i++) {
      // Rotate which variant goes first, so drift (GC, the audit WAL growing) hits each alike.
      for (let k = 0; k < graphs.length; k++) {
        const g = graphs[(i + k) % graphs.length]!;
        const r = await runOnce(g, i);
        g.v.perStep.push(r.ms / steps);
        g.v.activityPerStep.push(r.activityMs / steps);
      }
    }

    const st = Object.fromEntries(variants.map((v) => [v.name, stats(v.perStep)])) as Record<string, Stats>;
    const sync = st['sqlite-sync']!;
    const airlock = opts.airlockPerStepMs ?? null;
    rows.push({
      metric: `per-step time, ${steps}-step read-only run (p50 of ${runs} runs)`,
      unit: 'ms',
      // No Airlock figure when the runner did not measure the Temporal side (Row.airlock has no null in bench/lib.ts).
      airlock: (airlock === null ? null : round(airlock)) as number,
      baseline: round(sync.p50),
      ratio: airlock === null ? null : round(airlock / sync.p50),
    });

    // What the SQLite checkpointer stored, per tool step (over every run of the sync variant, warm-ups included).
    const db = sqliteSync.db;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const cp = db.prepare('SELECT count(*) AS n, coalesce(sum(length(checkpoint) + length(metadata)), 0) AS bytes FROM checkpoints').get() as { n: number; bytes: number };
    const wr = db.prepare('SELECT count(*) AS n, coalesce(sum(length(value)), 0) AS bytes FROM writes').get() as { n: number; bytes: number };
    const totalSteps = syncRuns * steps;
    notes.push(
      `LangGraph SqliteSaver per tool step: ${round(cp.n / totalSteps)} checkpoints (${round(cp.bytes / totalSteps)} bytes) + ${round(wr.n / totalSteps)} pending writes (${round(wr.bytes / totalSteps)} bytes) = ` +
        `${round((cp.n + wr.n) / totalSteps)} rows, ${round((cp.bytes + wr.bytes) / totalSteps)} bytes per step; the database file grows ${round((statSafe(syncFile) ?? 0) / totalSteps)} bytes per step ` +
        `(${syncRuns} runs of ${steps} steps). A step is 3 graph super-steps (plan, govern, act), each a checkpoint of the whole state (so it grows with the run) plus its channel writes; a run adds the input and the final plan.`,
    );
    for (const v of variants) {
      const act = stats(v.activityPerStep).p50;
      notes.push(
        `${v.name}: ${v.describe}: per step p50 ${round(st[v.name]!.p50)} / p99 ${round(st[v.name]!.p99)} / mean ${round(st[v.name]!.mean)} ms, of which ${round(act)} ms (p50) inside the activity functions`,
      );
    }
    const framework = await frameworkPerStep(steps, runs);
    notes.push(
      `LangGraph itself (the same graph shape and state updates, no-op nodes, no checkpointer): ${round(framework.p50)} ms per step (p50 of ${runs * 5} runs); it runs inside the Airlock workflow too.`,
      `checkpointing cost per step (sqlite-sync − none, p50): ${round(sync.p50 - st.none!.p50)} ms; the rest is the activity work both sides do (plan with its model.routed record, decide with validation, Cedar and 3 audit records, the MCP call, tool.executed).`,
      `Every variant runs the worker's activity functions in-process (MockActivityEnvironment), writing the same audit records to the same store; a run is timed from run.started to run.completed written, divided by ${steps}.`,
      airlock === null
        ? 'Airlock per-step time not measured in this invocation (the runner passes it from the governed-steps section).'
        : `Airlock: the same graph inside Temporal (each node an activity recorded in workflow history), measured end to end through the API by the runner: run latency p50 / ${steps}.`,
    );
  } finally {
    await parts.close();
    sqliteSync.db.close();
    sqliteAsync.db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    id: 'langgraph',
    title: "5. LangGraph's own persistence vs Temporal: per-step time of the same agent graph",
    baseline: 'the same LangGraph graph (plan → govern → act) outside Temporal with LangGraph\'s SqliteSaver checkpointer (durability "sync"), nodes calling the same activity functions in-process',
    rows,
    notes,
  };
}

function statSafe(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}
