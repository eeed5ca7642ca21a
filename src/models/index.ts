import type { AirlockConfig } from '../config/load.js';
import { EmbeddedPlanner } from './embedded.js';
import { OpenAIPlanner } from './openai.js';
import type { Planner } from './types.js';

export type { Planner, PlanContext, ToolInfo } from './types.js';
export { PlannerOutputError } from './types.js';

/** Builds every configured planner once per worker; `embedded` is always present. */
export function createPlanners(cfg: AirlockConfig): Map<string, Planner> {
  const planners = new Map<string, Planner>([['embedded', new EmbeddedPlanner()]]);
  for (const [name, p] of Object.entries(cfg.models)) {
    if (p.kind === 'openai') planners.set(name, new OpenAIPlanner(name, p, p.apiKeyEnv ? cfg.env[p.apiKeyEnv] : undefined));
  }
  return planners;
}
