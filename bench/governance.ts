// Per-call governance overhead: one MCP tool call made directly with the MCP SDK client, against the
// same call through Airlock's control path without Temporal (decide: validation + Cedar policy + audit
// write; callTool through the pool; the tool.executed audit write), over stdio and Streamable HTTP.
//
// The activities are the worker's own (createActivities with the same dependencies createWorker
// builds), run inside MockActivityEnvironment so Context.current() works as in a worker.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../activities/index.js';
import { createAuditWriter } from '../activities/audit.js';
import { createRedactor } from '../src/audit/index.js';
import type { AuditEventInput, AuditStore } from '../src/audit/types.js';
import { BlobStore } from '../src/blobs/store.js';
import { agentSpec, type AirlockConfig } from '../src/config/load.js';
import type { Logger } from '../src/log/logger.js';
import { startDemoServers } from '../src/mcp/demo.js';
import { createPlanners } from '../src/models/index.js';
import type { PolicySource } from '../src/policy/source.js';
import type { McpPool } from '../src/registry/pool.js';
import { createWorkerParts, type WorkerParts } from '../src/worker/worker.js';
import type { AgentSpec, JsonObject, RunIdentity, ToolCall } from '../src/core/types.js';
import { BenchFailure, row, round, stats, type Row, type Section, type Stats } from './lib.js';

// ───────────────────────────── shared with bench/langgraph.ts ─────────────────────────────

/** Serves the config's demo HTTP servers (ticketing) unless something (the runner, `airlock start`) already does. */
export async function serveDemoHttp(config: AirlockConfig): Promise<{ close(): Promise<void> }> {
  return startDemoServers(config.servers, { reuseRunning: true }); // a port in use is already served: reuse it
}

export type AirlockParts = WorkerParts;

/** The worker's activities with the worker's own dependencies (createWorkerParts), minus Temporal. */
export async function openActivities(config: AirlockConfig, log: Logger): Promise<AirlockParts> {
  mkdirSync(config.dataDir, { recursive: true }); // the demo stdio servers keep their databases there
  return createWorkerParts(config, log);
}

/**
 * Runs activities as the worker would, one Temporal activity context per call: each gets its own
 * activity id under a fixed workflow execution, so the audit event ids it derives are unique.
 */
export class ActivityRunner {
  private seq = 0;
  constructor(
    readonly workflowId: string,
    readonly workflowRunId: string = randomUUID(),
  ) {}

  /** A fresh context; build it before the timed region (a worker has it before the activity starts). */
  env(activityType: string): MockActivityEnvironment {
    return new MockActivityEnvironment({
      activityId: String(++this.seq),
      activityType,
      workflowType: 'agentRunWorkflow',
      workflowExecution: { workflowId: this.workflowId, runId: this.workflowRunId },
    });
  }

  run<P extends unknown[], R>(type: string, fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
    return runIn(this.env(type), fn, ...args);
  }
}

/** MockActivityEnvironment.run with the result type kept. */
export function runIn<P extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

/** The demo identity the bench acts for: a support user (reads are allowed to anyone). */
export const BENCH_IDENTITY: RunIdentity = { kind: 'user', subject: 'alice', groups: ['support'] };

/** The workflow's tool.executed event (workflows/runState.ts note()), as the workflow queues it. */
export function toolExecutedEvent(o: {
  workflowRunId: string;
  seq: number;
  runId: string;
  agent: string;
  identity: RunIdentity;
  call: ToolCall;
  step: number;
  digest: string;
  resultDigest: string | null;
  durationMs: number | null;
  outcome: string;
}): AuditEventInput {
  return {
    eventId: `${o.workflowRunId}/w${o.seq}`,
    chain: `run:${o.runId}`,
    type: 'tool.executed',
    at: new Date().toISOString(),
    runId: o.runId,
    principal: o.identity.subject,
    ...(o.identity.onBehalfOf ? { onBehalfOf: o.identity.onBehalfOf } : {}),
    agent: o.agent,
    server: o.call.server,
    tool: o.call.tool,
    outcome: o.outcome,
    data: { step: o.step, args: o.call.args, digest: o.digest, resultDigest: o.resultDigest, durationMs: o.durationMs },
  };
}

// ───────────────────────────── the benchmark ─────────────────────────────

interface Target {
  transport: 'stdio' | 'http';
  server: string;
  tool: string;
  args: JsonObject;
}

const TARGETS: Target[] = [
  { transport: 'stdio', server: 'crm', tool: 'get_account', args: { accountId: 'C-1001' } },
  { transport: 'http', server: 'ticketing', tool: 'get_ticket', args: { ticketId: 'T-5001' } },
];

const WARMUP = 50;

/** An MCP SDK client connected the way the pool connects (same command, args, env and cwd; same URL and headers). */
async function directClient(config: AirlockConfig, server: string): Promise<Client> {
  const cfg = config.servers[server];
  if (!cfg) throw new BenchFailure(`the config has no server "${server}"`);
  const client = new Client({ name: 'bench-direct', version: '0.1.0' });
  if (cfg.transport === 'http') {
    await client.connect(new StreamableHTTPClientTransport(new URL(cfg.url), { requestInit: { headers: { ...cfg.headers }, redirect: 'error' } }));
  } else {
    const t = new StdioClientTransport({ command: cfg.command, args: cfg.args, env: { ...cfg.env }, cwd: cfg.cwd, stderr: 'pipe' });
    t.stderr?.on('data', () => {}); // drained, as the pool drains it
    await client.connect(t);
  }
  // As any client does before calling: it also makes the SDK validate results against each tool's outputSchema, as the pool's client does.
  await client.listTools();
  return client;
}

const fmt = (s: Stats) => `p50 ${round(s.p50)} / p99 ${round(s.p99)} / mean ${round(s.mean)} ms (n=${s.n})`;

/** Times `fn` n times (after a short warm-up); fn gets the iteration and may return a promise. */
async function sample(n: number, fn: (i: number) => unknown): Promise<Stats> {
  const warm = Math.min(WARMUP, n);
  for (let i = 0; i < warm; i++) await fn(-1 - i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return stats(out);
}

export async function benchGovernance(opts: { config: AirlockConfig; iterations?: number; log: Logger }): Promise<Section> {
  const { config, log } = opts;
  const n = opts.iterations ?? 500;
  const agentName = Object.keys(config.agents).find((a) => TARGETS.every((t) => config.agents[a]!.servers.includes(t.server)));
  if (!agentName) throw new BenchFailure(`no agent of the config may use ${TARGETS.map((t) => t.server).join(' and ')}`);
  const agent: AgentSpec = agentSpec(config, agentName);
  const identity = BENCH_IDENTITY;

  const demo = await serveDemoHttp(config);
  const parts = await openActivities(config, log);
  const { activities: acts, pool, policies, audit } = parts;
  const clients: Client[] = [];
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const results: Record<string, { airlock: Stats; direct: Stats }> = {};
    const split: Record<string, { decide: number; callTool: number; audit: number }> = {};
    for (const target of TARGETS) {
      // The pool connects (and spawns its server) first: two fresh spawns would race to seed the demo database.
      await pool.listTools(target.server);
      const direct = await directClient(config, target.server);
      clients.push(direct);
      const call: ToolCall = { server: target.server, tool: target.tool, args: target.args };
      const runner = new ActivityRunner(`bench-governance-${target.transport}`);
      const runId = `bench-gov-${target.transport}-${runner.workflowRunId.slice(0, 8)}`;
      let wseq = 0;
      let step = 0;

      const directCall = async () => {
        const res = (await direct.callTool({ name: target.tool, arguments: target.args })) as CallToolResult;
        if (res.isError) throw new BenchFailure(`direct ${target.server}.${target.tool} answered an error: ${JSON.stringify(res.content)}`);
      };
      /** decide → callTool → the tool.executed write, as the workflow's govern and act nodes do (no carried events). */
      const airlockCall = async (envs: [MockActivityEnvironment, MockActivityEnvironment, MockActivityEnvironment]) => {
        const s = step++;
        const t0 = performance.now();
        const d = await runIn(envs[0], acts.decide, { runId, step: s, agent, identity, call });
        const t1 = performance.now();
        if (d.outcome !== 'allow') throw new BenchFailure(`Airlock did not allow ${target.server}.${target.tool}: ${d.outcome}: ${d.reason}`);
        const exec = { ...call, args: d.args };
        const r = await runIn(envs[1], acts.callTool, { runId, step: s, call: exec });
        const t2 = performance.now();
        if (r.isError) throw new BenchFailure(`${target.server}.${target.tool} through Airlock answered an error: ${JSON.stringify(r.data)}`);
        const event = toolExecutedEvent({
          workflowRunId: runner.workflowRunId,
          seq: ++wseq,
          runId,
          agent: agent.name,
          identity,
          call: exec,
          step: s,
          digest: d.digest,
          resultDigest: r.digest ?? null,
          durationMs: r.durationMs ?? null,
          outcome: 'success',
        });
        await runIn(envs[2], acts.audit, { events: [event] });
        return [t1 - t0, t2 - t1, performance.now() - t2] as const;
      };
      const envs = () => [runner.env('decide'), runner.env('callTool'), runner.env('audit')] as [MockActivityEnvironment, MockActivityEnvironment, MockActivityEnvironment];

      for (let i = 0; i < WARMUP; i++) {
        await directCall();
        await airlockCall(envs());
      }
      const a: number[] = [];
      const b: number[] = [];
      const pieces: number[][] = [[], [], []];
      for (let i = 0; i < n; i++) {
        // Interleaved, alternating which goes first, so drift (GC, the WAL growing, CPU boost) hits both.
        const order = i % 2 === 0 ? (['direct', 'airlock'] as const) : (['airlock', 'direct'] as const);
        for (const which of order) {
          if (which === 'direct') {
            const t0 = performance.now();
            await directCall();
            b.push(performance.now() - t0);
          } else {
            const e = envs();
            const t0 = performance.now();
            const split = await airlockCall(e);
            a.push(performance.now() - t0);
            split.forEach((ms, j) => pieces[j]!.push(ms));
          }
        }
      }
      const airlock = stats(a);
      const directStats = stats(b);
      results[target.transport] = { airlock, direct: directStats };
      const name = `${target.server}.${target.tool} over ${target.transport === 'stdio' ? 'stdio' : 'Streamable HTTP'}`;
      const [sd, sc, sa] = pieces.map(stats) as [Stats, Stats, Stats];
      split[target.transport] = { decide: sd.p50, callTool: sc.p50, audit: sa.p50 };
      notes.push(
        `${name}, the Airlock path in place (p50 / p99): decide ${round(sd.p50)} / ${round(sd.p99)} ms, callTool ${round(sc.p50)} / ${round(sc.p99)} ms, tool.executed audit write ${round(sa.p50)} / ${round(sa.p99)} ms; the direct call ${round(directStats.p50)} / ${round(directStats.p99)} ms.`,
      );
      rows.push(row(`${name} p50`, 'ms', airlock.p50, directStats.p50));
      rows.push(row(`${name} p99`, 'ms', airlock.p99, directStats.p99));
    }

    const stdio = results.stdio!;
    const sp = split.stdio!;
    notes.push(
      `stdio overhead at p50, in place: decide ${round(sp.decide)} ms + callTool over the direct call ${round(sp.callTool - stdio.direct.p50)} ms + tool.executed write ${round(sp.audit)} ms ` +
        `(sum of medians ${round(sp.decide + sp.callTool - stdio.direct.p50 + sp.audit)} ms; measured ${round(stdio.airlock.p50 - stdio.direct.p50)} ms).`,
    );
    const http = results.http!;
    const overStdio = stdio.airlock.p50 - stdio.direct.p50;
    rows.push(row('overhead p50 over direct stdio call', 'ms', overStdio, null, { text: '< 1 ms over direct stdio', met: overStdio < 1 }));
    rows.push(row('overhead p50 over direct Streamable HTTP call', 'ms', http.airlock.p50 - http.direct.p50, null));
    notes.unshift(
      `${n} calls per path after ${WARMUP} warm-up calls, airlock and direct interleaved (alternating first); the Airlock path is decide → callTool → audit(tool.executed), ` +
        `the worker's activity functions in a MockActivityEnvironment (no Temporal server), SQLite audit store at ${audit.location}, ${audit.kind}.`,
    );

    // ── Profile: the pieces of the Airlock path, one at a time (stdio target). ──
    notes.push(...(await profile({ config, log, n: Math.min(n, 300), agent, identity, acts, pool, policies, audit, target: TARGETS[0]!, direct: clients[0]!, overhead: overStdio })));
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await parts.close();
    await demo.close();
  }
  return {
    id: 'governance',
    title: '1. Per-call governance overhead (control path without Temporal)',
    baseline: 'the same MCP tool call made directly with the MCP SDK client, same server and transport',
    rows,
    notes,
  };
}

/** Times each piece of the Airlock path separately and says where the overhead goes. */
async function profile(o: {
  config: AirlockConfig;
  log: Logger;
  n: number;
  agent: AgentSpec;
  identity: RunIdentity;
  acts: Activities;
  pool: McpPool;
  policies: PolicySource;
  audit: AuditStore;
  target: Target;
  direct: Client;
  overhead: number;
}): Promise<string[]> {
  const { config, n, agent, identity, acts, pool, policies, audit, target } = o;
  const call: ToolCall = { server: target.server, tool: target.tool, args: target.args };
  const runner = new ActivityRunner('bench-governance-profile');
  const runId = `bench-gov-profile-${runner.workflowRunId.slice(0, 8)}`;

  // decide with an audit store that stores nothing: validation + Cedar + event building and redaction.
  const nullStore: AuditStore = Object.assign(Object.create(audit) as AuditStore, { append: async () => [] });
  const noAudit = createActivities({
    config,
    pool,
    planners: createPlanners(config),
    policies,
    audit: nullStore,
    redactor: createRedactor(config),
    blobs: new BlobStore(join(config.dataDir, 'blobs')),
  });
  const env = () => runner.env('profile');
  const pre = (k: number) => Array.from({ length: k + WARMUP }, env);
  const envsA = pre(n);
  const envsB = pre(n);
  const envsC = pre(n);
  const envsD = pre(n);
  let k = 0;
  const at = (list: MockActivityEnvironment[]) => list[k++ % list.length]!;

  const d0 = await runner.run('decide', acts.decide, { runId, step: 0, agent, identity, call });
  const tools = await pool.listTools(target.server);
  const tool = tools.find((t) => t.name === target.tool)!;
  const engine = policies.current();
  if (engine instanceof Error) throw new BenchFailure(`policy engine unavailable: ${engine.message}`);
  const classification = config.servers[target.server]?.classification ?? 'internal';
  const redactor = createRedactor(config);
  const writer = createAuditWriter({ audit, redactor });
  let s = 0;
  const decideEvents = (): AuditEventInput[] => {
    const who = { principal: identity.subject, agent: agent.name, server: call.server, tool: call.tool };
    const at = new Date().toISOString();
    const id = `${runner.workflowRunId}/p${++s}`;
    return [
      { eventId: `${id}/proposed`, chain: `run:${runId}`, runId, type: 'tool.proposed', at, ...who, data: { step: s, args: call.args } },
      { eventId: `${id}/validated`, chain: `run:${runId}`, runId, type: 'tool.validated', at, ...who, outcome: 'valid', data: { step: s } },
      {
        eventId: `${id}/decided`,
        chain: `run:${runId}`,
        runId,
        type: 'policy.decided',
        at,
        ...who,
        outcome: 'allow',
        data: { step: s, reason: d0.reason, policyIds: d0.policyIds, policyVersion: d0.policyVersion, phase: agent.phase, digest: d0.digest, args: d0.args },
      },
    ];
  };

  const parts: Array<[string, Stats]> = [];
  const add = async (name: string, fn: (i: number) => unknown) => {
    k = 0;
    parts.push([name, await sample(n, fn)]);
  };
  await add('empty activity context (MockActivityEnvironment.run of a no-op)', () => at(envsA).run(async () => undefined));
  await add('decide, audit store stubbed (validation + Cedar + events + redaction)', () => runIn(at(envsB), noAudit.decide, { runId, step: 1, agent, identity, call }));
  await add('  PolicySource.current() (readdir + stat of the policy dir)', () => policies.current());
  await add('  pool.listTools (admit + status/lock file stat + pin check)', () => pool.listTools(target.server));
  await add('  sha256(JSON.stringify(inputSchema)) (validator cache key)', () => createHash('sha256').update(JSON.stringify(tool.inputSchema)).digest('hex'));
  await add('  Cedar evaluate (PolicyEngine.evaluate)', () =>
    engine.evaluate({
      principal: { kind: 'user', id: identity.subject, groups: identity.groups },
      agent: agent.name,
      phase: agent.phase,
      server: call.server,
      tool: call.tool,
      toolInfo: { readOnly: true, destructive: false, idempotent: true, classification },
      args: call.args,
      runId,
      now: new Date().toISOString(),
    }),
  );
  await add('  redaction of the 3 decide events', () => decideEvents().map((e) => Object.values(e.data).map((v) => redactor.redact(v, e.server, e.tool))));
  await add('audit write: the 3 decide events (redact + hash chain + SQLite tx)', () => writer.write(decideEvents()));
  await add('  audit store append only (3 events, pre-redacted)', () => audit.append(decideEvents()));
  let w = 0;
  await add('audit write: 1 tool.executed event', () =>
    writer.write([
      toolExecutedEvent({ workflowRunId: runner.workflowRunId, seq: ++w, runId, agent: agent.name, identity, call, step: w, digest: d0.digest, resultDigest: null, durationMs: 1, outcome: 'success' }),
    ]),
  );
  await add('direct MCP SDK call, back to back (for comparison)', () => o.direct.callTool({ name: target.tool, arguments: target.args }));
  await add('pool.callTool (verified connection + MCP call)', () => pool.callTool(call.server, call.tool, d0.args));
  await add('callTool activity (pool.callTool + result view, sanitize, digest, blob check)', () => runIn(at(envsC), acts.callTool, { runId, step: 1, call: { ...call, args: d0.args } }));
  await add('full decide activity (with the real audit write)', () => runIn(at(envsD), acts.decide, { runId, step: 2, agent, identity, call }));

  const out = [`profile (${target.server}.${target.tool} over ${target.transport}, ${n} samples each, pieces measured one at a time):`];
  for (const [name, st] of parts) out.push(`  ${name}: ${fmt(st)}`);
  const get = (prefix: string) => parts.find(([p]) => p.startsWith(prefix))?.[1].p50 ?? 0;
  const decideNoAudit = get('decide, audit store stubbed');
  const auditDecide = get('audit write: the 3');
  const auditExec = get('audit write: 1');
  const callAct = get('callTool activity');
  const poolCall = get('pool.callTool');
  const ctx = get('empty activity context');
  out.push(
    `the same budget from the isolated pieces (p50; ${round(o.overhead)} ms measured in place): decide without audit ${round(decideNoAudit)} + decide's audit write ${round(auditDecide)} + tool.executed write ${round(auditExec)} + ` +
      `callTool activity over pool.callTool ${round(callAct - poolCall)} + 3 activity contexts ${round(3 * ctx)} ms`,
  );
  return out;
}
