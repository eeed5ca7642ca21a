import { ApplicationFailure } from '@temporalio/common';
import type { AirlockConfig } from '../src/config/load.js';
import { PlannerOutputError, type Planner, type ToolInfo } from '../src/models/index.js';
import { RegistryError, type McpPool } from '../src/registry/pool.js';
import { sanitizeJson } from '../src/registry/scanner.js';
import type { AuditEventInput } from '../src/audit/types.js';
import type { JsonObject, PlanOutput, RunIdentity, StepView } from '../workflows/types.js';
import type { AuditWriter } from './audit.js';

export interface PlanInput {
  runId: string;
  agent: string;
  input: JsonObject;
  steps: StepView[];
  identity?: RunIdentity;
  /** The run's queued audit events, written before the model is called. */
  audit?: AuditEventInput[];
}

export function createModelActivities({ config, pool, planners, writer }: { config: AirlockConfig; pool: McpPool; planners: Map<string, Planner>; writer: AuditWriter }) {
  async function plan({ runId, agent: agentName, input, steps, identity, audit }: PlanInput): Promise<PlanOutput> {
    const agent = config.agents[agentName];
    if (!agent) throw ApplicationFailure.nonRetryable(`agent "${agentName}" is not configured on this worker`, 'PlannerFailed');
    const planner = planners.get(agent.model);
    if (!planner) throw ApplicationFailure.nonRetryable(`model provider "${agent.model}" is not configured`, 'PlannerFailed');
    await writer.write([
      ...(audit ?? []),
      ...writer.own(runId, [
        {
          key: 'routed',
          type: 'model.routed',
          at: new Date().toISOString(),
          ...(identity ? { principal: identity.subject, ...(identity.onBehalfOf ? { onBehalfOf: identity.onBehalfOf } : {}) } : {}),
          agent: agentName,
          outcome: planner.name,
          data: { step: steps.length, model: planner.name, reason: `agent ${agentName} is configured with model "${agent.model}"` },
        },
      ]),
    ]);
    const tools: ToolInfo[] = [];
    if (planner.name !== 'embedded') {
      // The model only sees tools of approved, unmodified servers, minus those the catalog withholds.
      // A refused server is left out rather than failing the plan; calls to it are denied by control.
      for (const server of agent.servers) {
        let live;
        try {
          live = await pool.listTools(server);
        } catch (err) {
          if (err instanceof RegistryError) continue;
          throw err;
        }
        for (const tool of live) if (pool.catalogAllows(server, tool.name)) tools.push({ server, tool: sanitizeJson(tool) });
      }
    }
    try {
      return await planner.plan({ runId, agentName, agent, input, steps, tools });
    } catch (err) {
      if (err instanceof PlannerOutputError) throw ApplicationFailure.nonRetryable(err.message, 'PlannerFailed');
      throw err;
    }
  }
  return { plan };
}
