import type { AirlockConfig } from '../config/load.js';
import { EmbeddedPlanner } from './embedded.js';
import { createProviderPlanner } from './providers.js';
import type { Planner } from './types.js';

export type { Planner, PlanContext, PlanResult, ToolInfo, TokenUsage } from './types.js';
export { PlannerOutputError, ProviderError } from './types.js';

/** Builds every configured planner once per worker; `embedded` is always present. */
export function createPlanners(cfg: AirlockConfig): Map<string, Planner> {
  const planners = new Map<string, Planner>([['embedded', new EmbeddedPlanner()]]);
  for (const [name, p] of Object.entries(cfg.models)) planners.set(name, createProviderPlanner(name, p, cfg.env));
  return planners;
}
