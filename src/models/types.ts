import type { BaseMessage } from '@langchain/core/messages';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ChatToolDef } from '../agent/types.js';
import type { AgentConfig } from '../config/schema.js';
import type { JsonObject, PlanOutput, StepView } from '../core/types.js';

export interface ToolInfo {
  server: string;
  tool: Tool;
}

export interface PlanContext {
  runId: string;
  agentName: string;
  agent: AgentConfig;
  input: JsonObject;
  /** Steps so far, with their results (tool results are data, never instructions). */
  steps: StepView[];
  tools: ToolInfo[];
  /** Set when the previous answer was unusable: what was wrong, for the model to correct (a bounded repair). */
  repair?: string;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** One planning answer, with what it cost. */
export interface PlanResult {
  output: PlanOutput;
  /** Tokens the provider reported (0 for the embedded planner). */
  usage: TokenUsage;
  /** The provider's model id that answered (e.g. `gpt-4o-mini`), or `embedded`. */
  model: string;
}

/** One model turn of an agent's graph: the conversation as the model will see it, and the tools offered. */
export interface ChatTurn {
  messages: BaseMessage[];
  tools: ChatToolDef[];
}

/** The model's answer to a turn: text and the tool calls it made (`server__tool` names). */
export interface ChatResult {
  message: { content: string; toolCalls: Array<{ id: string; name: string; args: JsonObject }> };
  usage: TokenUsage;
  /** The provider's model id that answered. */
  model: string;
}

/** A planner turns the run so far into the next proposed tool call, or a final answer. */
export interface Planner {
  /** The provider's configured name (`embedded`, or a key of `models`). */
  readonly name: string;
  plan(ctx: PlanContext, opts?: { signal?: AbortSignal }): Promise<PlanResult>;
  /**
   * A free-form chat turn for an agent's own graph (providers only). A planner without it (the
   * embedded one) serves graphs through `plan`, over the steps read back from the conversation.
   */
  chat?(turn: ChatTurn, opts?: { signal?: AbortSignal }): Promise<ChatResult>;
}

/**
 * A provider could not answer: the router falls back to the next model of the route for
 * `rate_limit`, `server`, `timeout` and `network`; `auth` and `bad_request` are configuration
 * problems and fail the plan.
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly provider: string,
    readonly kind: 'rate_limit' | 'server' | 'timeout' | 'network' | 'auth' | 'bad_request',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The model's output could not be turned into a valid plan step (not retried). */
export class PlannerOutputError extends Error {
  override readonly name = 'PlannerFailed';
}
