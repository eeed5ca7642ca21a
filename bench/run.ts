// `npm run bench`: what governance and durability cost, each figure against a baseline measured in
// the same invocation on the same machine. Prints a table and writes bench/results/<time>.json.
//   npm run bench [-- --quick] [--paused N] [--approvals N] [--only governance,steps,graph,approval,paused,langgraph,startup]
import { Client, Connection } from '@temporalio/client';
import { openSqliteDatabase } from '../src/store/sqliteDriver.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { loadConfig, ROOT, type AirlockConfig } from '../src/config/load.js';
import { createLogger } from '../src/log/logger.js';
import { startStack } from '../src/stack.js';
import { temporalDataConverter } from '../src/temporal/codec.js';
import { BARE_TASK_QUEUE } from './bareWorker.js';
import { benchGovernance } from './governance.js';
import { benchGraph } from './graph.js';
import { benchStartup } from './startup.js';
import { benchLangGraph } from './langgraph.js';
import { apiCall, free, rssMb, spawnNode, startRun, waitFor, waitResult, type Ctx } from './harness.js';
import { BenchFailure, pool, row, stats, table, time, type Section } from './lib.js';
import { approveUpdate, bareApprovalWorkflow, bareStepsWorkflow } from './workflows/bare.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    paused: { type: 'string' },
    approvals: { type: 'string' },
    only: { type: 'string' },
  },
});
const quick = args.quick!;
const PAUSED = Number(args.paused ?? (quick ? 200 : 10_000));
const APPROVALS = Number(args.approvals ?? (quick ? 30 : 200));
const only = new Set((args.only ?? 'governance,steps,graph,approval,paused,langgraph,startup').split(','));
const log = createLogger(process.env.AIRLOCK_LOG_LEVEL ?? 'warn', 'bench');
const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const READ = { server: 'crm', tool: 'get_account', args: { accountId: 'C-1001' } };
/**
 * The account the approval sections write notes to. Not the one the reads fetch: get_account returns
 * every note of its account, so 20,000 bench notes on C-1001 would make every later read slower.
 */
const NOTES_ACCOUNT = 'C-1004';
const STEPS = 5;

/** The demo config plus the bench agents, written where a separate worker process can read it. */
function benchConfigFile(dir: string): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'examples', 'airlock.yaml'), 'utf8'));
  doc.setIn(['policy', 'dir'], join(ROOT, 'examples', 'policies'));
  doc.setIn(['registry', 'lockFile'], join(ROOT, 'examples', 'airlock.lock.json'));
  doc.setIn(['audit', 'anchorEvery'], '1m');
  // Agent modules are relative to the config file: the copy lives elsewhere.
  for (const name of Object.keys((doc.toJS() as { agents: Record<string, { graph?: string }> }).agents)) {
    const graph = doc.getIn(['agents', name, 'graph']);
    if (typeof graph === 'string') doc.setIn(['agents', name, 'graph'], join(ROOT, 'examples', graph));
  }
  const reader = { servers: ['crm'], autonomy: 'autonomous', maxSteps: STEPS + 2, playbook: Array.from({ length: STEPS }, () => ({ tool: 'crm.get_account', args: READ.args })) };
  // Gated: every write waits for a member of finance.
  const approver = {
    servers: ['crm'],
    autonomy: 'gated',
    approvals: { group: 'finance' },
    maxSteps: 3,
    playbook: [{ tool: 'crm.add_note', args: { accountId: NOTES_ACCOUNT, body: 'bench {{input.n}}' } }],
  };
  doc.setIn(['agents', 'bench-reader'], doc.createNode(reader));
  // The same reads by an agent written as a graph: LangGraph's prebuilt ReAct agent over ctx.model() and ctx.tools().
  doc.setIn(['agents', 'bench-graph-reader'], doc.createNode({ ...reader, graph: join(ROOT, 'examples', 'agents', 'refund-react.ts') }));
  doc.setIn(['agents', 'bench-approver'], doc.createNode(approver));
  const file = join(dir, 'airlock.bench.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

/** 2. A run of N governed steps through the full path vs the same tool calls as bare activities. */
async function benchSteps(ctx: Ctx): Promise<Section> {
  const alice = await ctx.token('alice');
  const calls = Array.from({ length: STEPS }, () => READ);
  const rows = [];
  const notes: string[] = [];
  let perStepAirlock = 0;
  for (const [concurrency, runs] of [
    [1, quick ? 5 : 30],
    [50, quick ? 50 : 200],
  ] as const) {
    const measure = async (one: (i: number) => Promise<void>) => {
      const lat: number[] = [];
      const t0 = performance.now();
      await pool(
        Array.from({ length: runs }, (_, i) => i),
        concurrency,
        async (i) => lat.push((await time(() => one(i)))[0]),
      );
      const wall = performance.now() - t0;
      return { s: stats(lat), stepsPerSec: (runs * STEPS) / (wall / 1000) };
    };
    // Warm both paths (bundles, connections, stdio servers) before measuring.
    await waitResult(ctx, await startRun(ctx, alice, 'bench-reader', {}));
    await ctx.client.workflow.execute(bareStepsWorkflow, { taskQueue: BARE_TASK_QUEUE, workflowId: `bare-warm-${Date.now()}`, args: [calls] });
    const airlock = await measure(async () => waitResult(ctx, await startRun(ctx, alice, 'bench-reader', {})));
    const bare = await measure((i) =>
      ctx.client.workflow.execute(bareStepsWorkflow, { taskQueue: BARE_TASK_QUEUE, workflowId: `bare-${concurrency}-${i}-${Date.now()}`, args: [calls] }).then(() => {}),
    );
    if (concurrency === 1) perStepAirlock = airlock.s.p50 / STEPS;
    rows.push(
      row(`steps/s, concurrency ${concurrency}`, 'steps/s', airlock.stepsPerSec, bare.stepsPerSec),
      row(
        `run latency p50, concurrency ${concurrency}`,
        'ms',
        airlock.s.p50,
        bare.s.p50,
        concurrency === 1 ? { text: 'governed step within 1.3× of bare', met: airlock.s.p50 / bare.s.p50 <= 1.3 } : undefined,
      ),
      row(`run latency p99, concurrency ${concurrency}`, 'ms', airlock.s.p99, bare.s.p99),
    );
    notes.push(`concurrency ${concurrency}: ${runs} runs of ${STEPS} steps each side`);
  }
  notes.push(
    `A governed step is a plan activity (model routing + audit of the routing), a decide activity (schema, Cedar, 3 audit records) and the tool call; a bare step is the tool call alone. Per governed step at concurrency 1: ${perStepAirlock.toFixed(1)} ms.`,
  );
  (benchSteps as { perStepMs?: number }).perStepMs = perStepAirlock;
  return { id: 'steps', title: `2. Governed run of ${STEPS} steps vs a bare Temporal workflow`, baseline: 'a Temporal workflow calling the same MCP tool as plain activities', rows, notes };
}

/** Wall-clock ms at which the CRM server wrote the note with this body. */
function noteTimes(config: AirlockConfig): Map<string, number> {
  const db = openSqliteDatabase(join(config.dataDir, 'crm.db'), { readonly: true, fileMustExist: true });
  try {
    return new Map((db.prepare(`SELECT body, created_at AS at FROM notes WHERE body LIKE 'bench %'`).all() as Array<{ body: string; at: string }>).map((r) => [r.body, Date.parse(r.at)]));
  } finally {
    db.close();
  }
}

/** 3. From the approval's 200 to the approved call reaching the MCP server. */
async function benchApproval(ctx: Ctx): Promise<Section> {
  const [alice, bob] = [await ctx.token('alice'), await ctx.token('bob')];
  const tag = Date.now().toString(36);
  const runIds = await pool(
    Array.from({ length: APPROVALS }, (_, i) => i),
    20,
    (i) => startRun(ctx, alice, 'bench-approver', { n: `a-${tag}-${i}` }),
  );
  const approvals: string[] = [];
  for (const id of runIds) {
    const v = await waitFor(
      `run ${id} to wait for approval`,
      () => apiCall(ctx, 'GET', `/v1/runs/${id}`, alice),
      (r) => r.body?.status === 'awaiting_approval',
      60_000,
    );
    approvals.push(v.body.pendingApprovals[0].approvalId);
  }
  const lat: number[] = [];
  for (let i = 0; i < approvals.length; i++) {
    const r = await apiCall(ctx, 'POST', `/v1/approvals/${approvals[i]}/decision`, bob, { decision: 'approve' });
    const t0 = Date.now();
    if (r.status !== 200) throw new BenchFailure(`approval ${approvals[i]} refused: ${r.status} ${JSON.stringify(r.body)}`);
    const at = await waitFor(
      `note of approval ${i}`,
      async () => noteTimes(ctx.config).get(`bench a-${tag}-${i}`),
      (t) => t !== undefined,
      30_000,
    );
    lat.push(at! - t0);
  }
  // Baseline: a workflow that waits for an update, then makes the same call as a plain activity.
  const base: number[] = [];
  for (let i = 0; i < APPROVALS; i++) {
    const h = await ctx.client.workflow.start(bareApprovalWorkflow, {
      taskQueue: BARE_TASK_QUEUE,
      workflowId: `bare-approval-${tag}-${i}`,
      args: [{ server: 'crm', tool: 'add_note', args: { accountId: NOTES_ACCOUNT, body: `bench b-${tag}-${i}` } }],
    });
    await h.executeUpdate(approveUpdate);
    const t0 = Date.now();
    const at = await waitFor(
      `baseline note ${i}`,
      async () => noteTimes(ctx.config).get(`bench b-${tag}-${i}`),
      (t) => t !== undefined,
      30_000,
    );
    base.push(at! - t0);
  }
  const a = stats(lat);
  const b = stats(base);
  return {
    id: 'approval',
    title: '3. Approval resume latency',
    baseline: 'a Temporal workflow resumed by an update, calling the tool as a plain activity',
    rows: [row('resume p50', 'ms', a.p50, b.p50, { text: 'p50 under 100 ms', met: a.p50 < 100 }), row('resume p99', 'ms', a.p99, b.p99)],
    notes: [
      `${APPROVALS} approvals each side, one at a time; measured from the decision's 200 to the CRM server writing the note (its clock, the same machine; 1 ms resolution).`,
      'Airlock resumes the LangGraph approve node, then the call activity writes the vote to the audit trail before calling the tool.',
    ],
  };
}

/** 4. Many runs paused on approval: start them, hold them, list them, approve them all. */
async function benchPaused(ctx: Ctx): Promise<Section> {
  const [alice, bob, olivia] = [await ctx.token('alice'), await ctx.token('bob'), await ctx.token('olivia')];
  const tag = Date.now().toString(36);
  const count = async (q: string) => (await ctx.client.workflow.count(q)).count;
  const before = { worker: rssMb(ctx.worker.pid!), bare: rssMb(ctx.bare.pid!), api: process.memoryUsage().rss / 2 ** 20 };

  say(`starting ${PAUSED} runs that wait for approval…`);
  const [startMs, runIds] = await time(() =>
    pool(
      Array.from({ length: PAUSED }, (_, i) => i),
      50,
      (i) => startRun(ctx, alice, 'bench-approver', { n: `p-${tag}-${i}` }),
    ),
  );
  const [pauseMs] = await time(() =>
    waitFor(
      'all runs paused',
      () => count(`AirlockAgent = 'bench-approver' AND AirlockStatus = 'awaiting_approval'`),
      (n) => n >= PAUSED,
      60 * 60_000,
    ),
  );
  (global as { gc?: () => void }).gc?.();
  const held = { worker: rssMb(ctx.worker.pid!), api: process.memoryUsage().rss / 2 ** 20 };
  const list = async (limit: number) => {
    const lat: number[] = [];
    for (let i = 0; i < (quick ? 3 : 10); i++) {
      const [ms, r] = await time(() => apiCall(ctx, 'GET', `/v1/approvals?limit=${limit}`, olivia));
      if (r.status !== 200 || r.body.approvals.length !== Math.min(limit, PAUSED)) throw new BenchFailure(`approvals list: ${r.status}, ${r.body?.approvals?.length} of ${limit}`);
      lat.push(ms);
    }
    return stats(lat);
  };
  const list100 = await list(100);
  const list1000 = await list(1000);

  say(`approving ${PAUSED} runs…`);
  const doneBefore = await count(`AirlockAgent = 'bench-approver' AND AirlockStatus = 'completed'`);
  const [approveMs] = await time(async () => {
    await pool(runIds, 50, async (id) => {
      const r = await apiCall(ctx, 'POST', `/v1/approvals/${id}.a0/decision`, bob, { decision: 'approve' });
      if (r.status !== 200) throw new BenchFailure(`approval of ${id} lost: ${r.status} ${JSON.stringify(r.body)}`);
    });
    await waitFor(
      'all approved runs to complete',
      () => count(`AirlockAgent = 'bench-approver' AND AirlockStatus = 'completed'`),
      (n) => n >= doneBefore + PAUSED,
      60 * 60_000,
    );
  });
  const notes = noteTimes(ctx.config);
  const missing = runIds.filter((_, i) => !notes.has(`bench p-${tag}-${i}`)).length;
  if (missing) throw new BenchFailure(`${missing} approved calls never reached the CRM server`);

  // Baseline: the same number of bare workflows waiting on an update.
  say(`baseline: ${PAUSED} bare workflows waiting on an update…`);
  const [bareStartMs, handles] = await time(() =>
    pool(
      Array.from({ length: PAUSED }, (_, i) => i),
      50,
      (i) =>
        ctx.client.workflow.start(bareApprovalWorkflow, {
          taskQueue: BARE_TASK_QUEUE,
          workflowId: `bare-paused-${tag}-${i}`,
          args: [{ server: 'crm', tool: 'add_note', args: { accountId: NOTES_ACCOUNT, body: `bench q-${tag}-${i}` } }],
        }),
    ),
  );
  await waitFor(
    'bare workflows started',
    () => count(`WorkflowType = 'bareApprovalWorkflow' AND ExecutionStatus = 'Running'`),
    (n) => n >= PAUSED,
    60 * 60_000,
  );
  const bareHeld = rssMb(ctx.bare.pid!);
  const [bareApproveMs] = await time(async () => {
    await pool(handles, 50, (h) => h.executeUpdate(approveUpdate));
    await waitFor(
      'bare workflows done',
      () => count(`WorkflowType = 'bareApprovalWorkflow' AND ExecutionStatus = 'Running'`),
      (n) => n === 0,
      60 * 60_000,
    );
  });

  return {
    id: 'paused',
    title: `4. ${PAUSED} runs paused on approval`,
    baseline: 'the same number of bare Temporal workflows waiting on an update (their own worker process)',
    rows: [
      row('time to start them all', 's', startMs / 1000, bareStartMs / 1000),
      row('time until all are paused', 's', (startMs + pauseMs) / 1000, null),
      row('worker RSS while they wait', 'MB', held.worker, bareHeld, { text: 'worker under 500 MB', met: held.worker < 500 }),
      row('API (+ bench client) RSS while they wait', 'MB', held.api, null),
      row(`GET /v1/approvals?limit=100 with ${PAUSED} pending, p50`, 'ms', list100.p50, null, { text: 'pending list under 200 ms', met: list100.p50 < 200 }),
      row(`GET /v1/approvals?limit=1000 with ${PAUSED} pending, p50`, 'ms', list1000.p50, null),
      row('time to approve all and finish', 's', approveMs / 1000, bareApproveMs / 1000),
    ],
    notes: [
      `RSS before: Airlock worker ${before.worker.toFixed(0)} MB, bare worker ${before.bare.toFixed(0)} MB, API ${before.api.toFixed(0)} MB.`,
      'The API lists pending approvals from Temporal visibility (search attributes + memo), so the list costs one visibility page, not one query per run.',
      'No approval was lost: every approved call reached the CRM server (checked by its note).',
    ],
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const configFile = benchConfigFile(dir);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    AIRLOCK_CONFIG: configFile,
    AIRLOCK_DATA_DIR: join(dir, 'data'),
    AIRLOCK_API_PORT: '0',
    AIRLOCK_TEMPORAL_PORT: String(await free()),
    AIRLOCK_TEMPORAL_UI_PORT: '0',
    AIRLOCK_DEMO_TICKETING_PORT: String(await free()),
    AIRLOCK_LOG_LEVEL: process.env.AIRLOCK_LOG_LEVEL ?? 'warn',
  };
  const config = loadConfig({ env });
  const sections: Section[] = [];
  const started = new Date();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${started.toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  // Written after every section, so a long run that fails late keeps what it measured.
  const save = (complete: boolean) => writeFileSync(file, JSON.stringify({ started: started.toISOString(), machine, quick, paused: PAUSED, approvals: APPROVALS, complete, sections }, null, 2));
  const push = (s: Section) => {
    sections.push(s);
    save(false);
  };
  say(`data in ${dir}; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);

  if (only.has('governance')) {
    say('1. per-call governance overhead…');
    push(await benchGovernance({ config, iterations: quick ? 100 : 1000, log }));
  }
  let stepMs: number | undefined;
  if (['steps', 'graph', 'approval', 'paused'].some((s) => only.has(s)) || only.has('langgraph')) {
    say('starting Temporal, the API and the demo servers; workers in their own processes…');
    const stack = await startStack(config, log, { worker: false });
    const workerEnv = { ...env, AIRLOCK_TEMPORAL_ADDRESS: stack.temporalAddress };
    const worker = await spawnNode([...(process.env.AIRLOCK_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.AIRLOCK_BENCH_PROFILE] : []), 'src/cli/main.ts', 'worker'], workerEnv);
    const bare = await spawnNode(['bench/bareWorker.ts'], workerEnv);
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const ctx: Ctx = {
      config,
      env,
      stack,
      client: new Client({ connection, namespace: config.temporal.namespace, dataConverter: temporalDataConverter(config) }),
      api: stack.apiUrl!,
      token: (u) => stack.issuer.mint(u),
      worker,
      bare,
    };
    await waitFor(
      'Airlock worker ready',
      () => fetch(`${ctx.api}/readyz`).then((r) => r.status),
      (s) => s === 200,
      120_000,
    );
    try {
      if (only.has('steps') || only.has('langgraph')) {
        say('2. governed steps vs bare Temporal…');
        const s = await benchSteps(ctx);
        stepMs = (benchSteps as { perStepMs?: number }).perStepMs;
        if (only.has('steps')) push(s);
      }
      if (only.has('graph')) {
        say('7. a graph agent vs the built-in loop…');
        push(await benchGraph(ctx, { steps: STEPS, runs: quick ? 5 : 30 }));
      }
      if (only.has('approval')) {
        say('3. approval resume latency…');
        push(await benchApproval(ctx));
      }
      if (only.has('paused')) {
        say('4. paused runs at scale…');
        push(await benchPaused(ctx));
      }
    } finally {
      worker.kill('SIGTERM');
      bare.kill('SIGTERM');
      await connection.close();
      await stack.stop();
    }
  }
  if (only.has('langgraph')) {
    say("5. LangGraph's checkpointer vs Temporal…");
    push(await benchLangGraph({ config, steps: STEPS, runs: quick ? 5 : 20, log, airlockPerStepMs: stepMs }));
  }
  if (only.has('startup')) {
    say('6. start-up…');
    push(await benchStartup({ quick, say }));
  }

  save(true);
  process.stdout.write(`# Airlock benchmarks\n\n${machine}\n${table(sections)}\n\nwritten to ${file}\n`);
  rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`[bench] FAILED: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
