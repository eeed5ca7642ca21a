// 7. The per-step cost of an agent written as a LangGraph graph (the prebuilt ReAct agent over ctx.model() and
// ctx.tools()) against the built-in loop, both doing the same governed reads with the embedded planner, same run.
import { startRun, waitResult, type Ctx } from './harness.js';
import { row, stats, time, type Section } from './lib.js';

export async function benchGraph(ctx: Ctx, o: { steps: number; runs: number }): Promise<Section> {
  const alice = await ctx.token('alice');
  const latency = async (agent: string) => {
    await waitResult(ctx, await startRun(ctx, alice, agent, {})); // warm: bundle, connections, caches
    const lat: number[] = [];
    for (let i = 0; i < o.runs; i++) lat.push((await time(async () => waitResult(ctx, await startRun(ctx, alice, agent, {}))))[0]);
    return stats(lat);
  };
  const graph = await latency('bench-graph-reader');
  const loop = await latency('bench-reader');
  return {
    id: 'graph',
    title: `7. An agent written as a graph vs the built-in loop (${o.steps} governed reads, concurrency 1)`,
    baseline: 'the built-in plan → govern → act loop doing the same reads',
    rows: [row('per-step cost p50', 'ms', graph.p50 / o.steps, loop.p50 / o.steps), row('run latency p50', 'ms', graph.p50, loop.p50), row('run latency p99', 'ms', graph.p99, loop.p99)],
    notes: [
      `${o.runs} runs each. A graph step is a chat activity (the whole conversation so far crosses the activity boundary), a decide and the tool call; a built-in step is a plan activity (local for the embedded planner), a decide and the tool call.`,
    ],
  };
}
