import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AgentConfig } from '../config/schema.js';
import type { JsonObject, PlanOutput, StepView } from '../../workflows/types.js';

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
}

/** A planner turns the run so far into the next proposed tool call, or a final answer. */
export interface Planner {
  readonly name: string;
  plan(ctx: PlanContext): Promise<PlanOutput>;
}

/** The model's output could not be turned into a valid plan step (not retried). */
export class PlannerOutputError extends Error {
  override readonly name = 'PlannerFailed';
}
