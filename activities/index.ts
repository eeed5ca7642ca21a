import type { AirlockConfig } from '../src/config/load.js';
import type { Planner } from '../src/models/index.js';
import type { PolicySource } from '../src/policy/source.js';
import type { McpPool } from '../src/registry/pool.js';
import { createControlActivities } from './control.js';
import { createMcpActivities } from './mcp.js';
import { createModelActivities } from './model.js';

export interface ActivityDeps {
  config: AirlockConfig;
  pool: McpPool;
  planners: Map<string, Planner>;
  policies: PolicySource;
}

/** All activities of the worker, built from injectable dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createModelActivities(deps),
    ...createControlActivities(deps),
    ...createMcpActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
