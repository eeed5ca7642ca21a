// `defineAgent`: how an agent module tells Airlock what graph to run. Workflow-safe (no I/O): agent
// modules are bundled into the workflow sandbox and import this as `airlock/agent`.
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { JsonObject } from '../core/types.js';

/** Picks tools by name (`server__tool`), by server, or with a predicate. */
export type ToolFilter = { servers?: string[]; names?: string[] } | ((name: string) => boolean);

export interface ModelOptions {
  /** Task class for routing (`plan` by default): `routing.routes[].task` matches it. */
  task?: string;
}

/** What `build` gets: the run's input and LangChain objects whose calls are Airlock's governed activities. */
export interface AgentContext {
  readonly runId: string;
  /** The agent's configured name. */
  readonly agent: string;
  /** The run's validated input (also the graph's initial state). */
  readonly input: JsonObject;
  /** A chat model: each call is Airlock's model activity (routing, clearance, budgets, fallbacks, repair, audit). */
  model(options?: ModelOptions): BaseChatModel;
  /** LangChain tools for the agent's approved servers: each call is governed (schema, phase, policy, approval, audit). */
  tools(filter?: ToolFilter): StructuredToolInterface[];
}

export interface AgentOptions {
  /**
   * A rejected or expired approval ends the run `rejected` (default `end`); `return` hands the rejection
   * to the graph as the tool's result instead.
   */
  onRejected?: 'end' | 'return';
  /** Groups whose members may answer the graph's `interrupt()` requests, besides the requester. */
  inputFrom?: string[];
  /**
   * The graph's initial state from the run's validated input (default: the input itself). A prebuilt agent
   * takes messages: `initialState: (input) => ({ messages: [{ role: 'user', content: JSON.stringify(input) }] })`.
   */
  initialState?: (input: JsonObject) => unknown;
}

/** A compiled LangGraph graph (what `StateGraph.compile()` and `createReactAgent` return). */
export interface AgentGraph {
  invoke(input: unknown, config?: Record<string, unknown>): Promise<unknown>;
}

export interface AgentDefinition {
  readonly kind: 'airlock.agent';
  build(ctx: AgentContext): AgentGraph;
  readonly options: AgentOptions;
}

/** An agent module default-exports `defineAgent((ctx) => graph)`. */
export function defineAgent(build: (ctx: AgentContext) => AgentGraph, options: AgentOptions = {}): AgentDefinition {
  return Object.freeze({ kind: 'airlock.agent' as const, build, options: Object.freeze({ ...options }) });
}

export function isAgentDefinition(x: unknown): x is AgentDefinition {
  return !!x && typeof x === 'object' && (x as AgentDefinition).kind === 'airlock.agent' && typeof (x as AgentDefinition).build === 'function';
}
