// The one way an agent runs: its LangGraph graph (`defineAgent(build)` — an author's module, or the built-in
// agent of YAML-only agents, builtinAgent.ts) inside the workflow. The graph keeps its shape — state,
// reducers, conditional edges, Send, subgraphs, prebuilt agents — and every model and tool call goes
// through Airlock (chatModel.ts, graphTools.ts, or the control path directly). `interrupt()` is a durable wait for a
// person: the run shows `awaiting_input` until the answers arrive, then the graph resumes where it stopped.
// The checkpointer is in memory: Temporal's history is the truth, and replay rebuilds it.
import { isAIMessage, type BaseMessage } from '@langchain/core/messages';
import { Command, isGraphDrained, MemorySaver } from '@langchain/langgraph';
import { condition } from '@temporalio/workflow';
import type { AgentContext, AgentDefinition } from '../src/agent/define.js';
import type { AgentToolDef } from '../src/agent/types.js';
import { ErrorCode } from '../src/core/errors.js';
import type { Json, JsonObject } from '../src/core/types.js';
import { AirlockChatModel } from './chatModel.js';
import { governedTools } from './graphTools.js';
import type { Governance } from './governance.js';
import type { Outcome, RunState } from './runState.js';

interface InterruptLike {
  id?: string;
  value?: unknown;
}

/** LangGraph's `tasks` stream: a node's start (name, input, triggers), then its end (result, error, interrupts). */
interface TaskEvent {
  name: string;
  interrupts?: InterruptLike[];
}

/** Plain JSON of a value (drops functions and class instances' methods); messages become their text. */
function toJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v ?? null)) as Json;
}

/** The run's result from the graph's final state: the last AI answer (parsed when it is JSON) and the other state keys. */
function resultOf(state: Record<string, unknown> | undefined): Json {
  if (!state) return null;
  const { messages, ...rest } = state;
  const out: JsonObject = toJson(rest) as JsonObject;
  if (Array.isArray(messages)) {
    const last = [...(messages as BaseMessage[])].reverse().find((m) => isAIMessage(m));
    const text = typeof last?.content === 'string' ? last.content : last ? JSON.stringify(last.content) : null;
    let answer: Json = text;
    try {
      answer = text === null ? null : (JSON.parse(text) as Json);
    } catch {
      /* plain text */
    }
    out.answer = answer;
  }
  return out;
}

/** Runs the agent's graph to its outcome; `tools` are the pinned definitions `ctx.tools()` builds from. */
export async function runAgentGraph(run: RunState, gov: Governance, def: AgentDefinition, tools: AgentToolDef[]): Promise<Outcome> {
  const { agent, runId } = run.input;
  const ctx: AgentContext = {
    runId,
    agent: agent.name,
    input: run.input.input,
    model: () => new AirlockChatModel(run, gov),
    tools: (filter) => governedTools(run, gov, tools, def.options, filter),
  };
  const graph = def.build(ctx) as unknown as AgentDefinitionGraph;
  // interrupt() needs a checkpointer; one in memory is rebuilt by replay, so history stays the only truth.
  graph.checkpointer ??= new MemorySaver();

  const config = { configurable: { thread_id: runId }, recursionLimit: agent.maxSteps * 5 + 25, streamMode: ['tasks', 'values'] as const };
  let input: unknown = def.options.initialState ? def.options.initialState(run.input.input) : run.input.input;
  for (;;) {
    let values: Record<string, unknown> | undefined;
    const interrupts: Array<InterruptLike & { node?: string }> = [];
    try {
      const stream = await graph.stream(input, config);
      for await (const [mode, chunk] of stream as AsyncIterable<[string, TaskEvent & Record<string, unknown>]>) {
        if (mode === 'values') values = chunk;
        else if ('triggers' in chunk)
          run.enterNode(chunk.name); // a task starts (its end carries `result`)
        else if (chunk.interrupts?.length) interrupts.push(...chunk.interrupts.map((i) => ({ ...i, node: chunk.name })));
      }
    } catch (err) {
      if (!(isGraphDrained(err) && run.stopped)) throw err;
    }
    if (run.stopped) return run.stopped;
    if (!interrupts.length) return { status: 'completed', result: resultOf(values) };

    const asked = run.askForInput(
      interrupts.map((i) => ({ value: toJson(i.value), ...(i.node ? { node: i.node } : {}) })),
      def.options.inputFrom ?? [],
    );
    await gov.flushAudit();
    await condition(() => asked.every((a) => a.status !== 'pending'));
    if (asked.some((a) => a.status !== 'answered')) return { status: 'failed', type: ErrorCode.AgentFailed, message: 'a question the agent asked was never answered' };
    // One question resumes with its answer; several with a map from each interrupt's id to its answer.
    const answers = asked.map((a) => a.answer ?? null);
    input = new Command({ resume: interrupts.length === 1 ? answers[0] : Object.fromEntries(interrupts.map((i, n) => [i.id ?? String(n), answers[n]])) });
  }
}

/** What the runtime needs of a compiled graph beyond AgentGraph: streaming, and a checkpointer slot. */
type AgentDefinitionGraph = {
  stream(input: unknown, config: Record<string, unknown>): Promise<AsyncIterable<unknown>>;
  checkpointer?: unknown;
};
