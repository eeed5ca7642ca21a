// The model call: route by task and data classification, enforce the agent's budget, call the
// chosen provider, and record the choice, tokens and cost. Fallback and repair are the workflow's:
// each attempt is its own activity in history.
import { ErrorCode } from '../src/core/errors.js';
import type { AuditEventInput } from '../src/audit/types.js';
import type { AuditStore } from '../src/audit/types.js';
import type { BlobStore } from '../src/blobs/store.js';
import type { AirlockConfig } from '../src/config/load.js';
import { PlannerOutputError, ProviderError, type Planner, type ToolInfo } from '../src/models/index.js';
import { DEFAULT_CLASSIFICATION, maxClassification, type Classification } from '../src/core/classification.js';
import { costOf, route, RoutingError } from '../src/models/router.js';
import { RegistryError, type McpPool } from '../src/registry/pool.js';
import { sanitizeJson } from '../src/core/sanitize.js';
import type { JsonObject, ModelUse, PlanOutput, RunIdentity, StepView } from '../src/core/types.js';
import { failure } from '../workflows/failure.js';
import type { AuditWriter } from './audit.js';

export interface PlanInput {
  runId: string;
  agent: string;
  input: JsonObject;
  steps: StepView[];
  identity?: RunIdentity;
  /** The run's queued audit events, written before the model is called. */
  audit?: AuditEventInput[];
  /** Models that failed for this step: the route's next model serves it. */
  exclude?: string[];
  /** What was wrong with the previous answer (a repair attempt). */
  repair?: string;
}

export interface PlanStepResult {
  next: PlanOutput;
  model: ModelUse;
}

interface ModelDeps {
  config: AirlockConfig;
  pool: McpPool;
  planners: Map<string, Planner>;
  writer: AuditWriter;
  audit: AuditStore;
  blobs: BlobStore;
}

export function createModelActivities({ config, pool, planners, writer, audit, blobs }: ModelDeps) {
  /** The run's data classification: what requesters may put in the input, and every server whose results it has seen. */
  function classificationOf(agentName: string, steps: StepView[]): Classification {
    const seen = steps.filter((s) => s.result).map((s) => config.servers[s.tool.slice(0, s.tool.indexOf('.'))]?.classification ?? DEFAULT_CLASSIFICATION);
    return maxClassification([config.agents[agentName]?.inputClassification ?? DEFAULT_CLASSIFICATION, ...seen]);
  }

  async function plan({ runId, agent: agentName, input, steps, identity, audit: queued, exclude, repair }: PlanInput): Promise<PlanStepResult> {
    const agent = config.agents[agentName];
    if (!agent) throw failure(ErrorCode.PlannerFailed, `agent "${agentName}" is not configured on this worker`);
    await writer.write(queued ?? []);

    const classification = classificationOf(agentName, steps);
    let choice;
    try {
      choice = route(config, { task: 'plan', agent: agentName, classification, exclude });
    } catch (err) {
      if (!(err instanceof RoutingError)) throw err;
      throw failure(err.kind === 'denied' ? ErrorCode.ModelRoutingDenied : ErrorCode.ModelsExhausted, err.message);
    }
    const planner = planners.get(choice.model);
    if (!planner) throw failure(ErrorCode.PlannerFailed, `model provider "${choice.model}" is not configured on this worker`);

    const budget = config.routing.budgets.perAgent[agentName];
    if (budget) {
      const used = await audit.usage(agentName, new Date(Date.now() - budget.window).toISOString());
      if ((budget.tokens !== undefined && used.tokens >= budget.tokens) || (budget.costUsd !== undefined && used.costUsd >= budget.costUsd)) {
        throw failure(
          ErrorCode.BudgetExceeded,
          `agent ${agentName} has used ${used.tokens} tokens and $${used.costUsd.toFixed(4)} in the last ${budget.window / 3_600_000}h; its budget is ${budget.tokens ?? '∞'} tokens and $${budget.costUsd ?? '∞'}`,
        );
      }
    }

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

    const record = (outcome: string, data: AuditEventInput['data']) =>
      writer.write(
        writer.own(runId, [
          {
            key: 'routed',
            type: 'model.routed',
            at: new Date().toISOString(),
            ...(identity ? { principal: identity.subject, ...(identity.onBehalfOf ? { onBehalfOf: identity.onBehalfOf } : {}) } : {}),
            agent: agentName,
            outcome,
            data: { step: steps.length, model: choice.model, reason: choice.reason, classification, skipped: choice.skipped, ...data },
          },
        ]),
      );

    let result;
    try {
      // Large results were stored aside: the planner sees the values, history only the references.
      result = await planner.plan({ runId, agentName, agent, input, steps: blobs.resolve(steps), tools, ...(repair ? { repair } : {}) });
    } catch (err) {
      if (err instanceof ProviderError) {
        await record('error', { error: err.kind, message: err.message, ...(err.status ? { status: err.status } : {}) });
        throw failure(ErrorCode.ProviderUnavailable, `${choice.model}: ${err.message}`, [{ model: choice.model, kind: err.kind }]);
      }
      if (err instanceof PlannerOutputError) {
        await record('invalid', { message: err.message });
        throw failure(ErrorCode.ModelOutputInvalid, err.message, [{ model: choice.model }]);
      }
      throw err;
    }
    let next = result.output;
    // A call to a tool the model was not offered is a malformed answer (repairable), not a policy question.
    if (next.kind === 'call' && planner.name !== 'embedded') {
      const { server, tool } = next.call;
      if (!tools.some((t) => t.server === server && t.tool.name === tool)) {
        await record('invalid', { message: `unknown tool ${server}.${tool}` });
        throw failure(ErrorCode.ModelOutputInvalid, `the model called ${server}.${tool}, which is not among the tools offered (${tools.map((t) => `${t.server}.${t.tool.name}`).join(', ')})`, [
          { model: choice.model },
        ]);
      }
    }
    if (next.kind === 'final') next = { kind: 'final', answer: blobs.keep(next.answer) };
    const use: ModelUse = {
      provider: choice.model,
      model: result.model,
      reason: choice.reason,
      classification,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      costUsd: costOf(config, choice.model, result.usage),
    };
    await record('success', { modelId: use.model, inputTokens: use.inputTokens, outputTokens: use.outputTokens, costUsd: use.costUsd });
    return { next, model: use };
  }
  return { plan };
}
