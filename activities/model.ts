// The model call: route by task and data classification, enforce the agent's budget, call the
// chosen provider, and record the choice, tokens and cost. Fallback and repair are the workflow's:
// each attempt is its own activity in history. `plan` serves the built-in planner loop; `chat`
// (activities/chat.ts) serves agents' own graphs with the same governance, shared here.
import { ErrorCode } from '../src/core/errors.js';
import type { AuditEventInput } from '../src/audit/types.js';
import type { AuditStore } from '../src/audit/types.js';
import type { BlobStore } from '../src/blobs/store.js';
import type { AirlockConfig } from '../src/config/load.js';
import type { AgentConfig } from '../src/config/schema.js';
import { PlannerOutputError, ProviderError, type Planner, type TokenUsage, type ToolInfo } from '../src/models/index.js';
import type { Classification } from '../src/core/classification.js';
import { costOf, route, RoutingError, runClassification, type RouteChoice } from '../src/models/router.js';
import type { McpPool } from '../src/registry/pool.js';
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

export interface ModelDeps {
  config: AirlockConfig;
  pool: McpPool;
  planners: Map<string, Planner>;
  writer: AuditWriter;
  audit: AuditStore;
  blobs: BlobStore;
}

/** Records one attempt of a model call as a `model.routed` audit event. */
export type RoutedRecorder = (outcome: 'success' | 'error' | 'invalid', data: AuditEventInput['data']) => Promise<void>;

/** The governance every model call goes through, whichever activity makes it: agent, route, planner, budget, offered tools, record, failures. */
export function createModelGovernance({ config, pool, planners, writer, audit }: Omit<ModelDeps, 'blobs'>) {
  function agentOf(name: string): AgentConfig {
    const agent = config.agents[name];
    if (!agent) throw failure(ErrorCode.PlannerFailed, `agent "${name}" is not configured on this worker`);
    return agent;
  }

  /** The model for this call, by route and clearance (fails closed), and the planner that serves it on this worker. */
  function choose(req: { task: string; agent: string; classification: Classification; exclude?: string[] }): { choice: RouteChoice; planner: Planner } {
    let choice;
    try {
      choice = route(config, req);
    } catch (err) {
      if (!(err instanceof RoutingError)) throw err;
      throw failure(err.kind === 'denied' ? ErrorCode.ModelRoutingDenied : ErrorCode.ModelsExhausted, err.message);
    }
    const planner = planners.get(choice.model);
    if (!planner) throw failure(ErrorCode.PlannerFailed, `model provider "${choice.model}" is not configured on this worker`);
    return { choice, planner };
  }

  /** The agent's spending over its per-agent window (the `model.routed` records), checked before each call. */
  async function checkBudget(agentName: string): Promise<void> {
    const budget = config.routing.budgets.perAgent[agentName];
    if (!budget) return;
    const used = await audit.usage(agentName, new Date(Date.now() - budget.window).toISOString());
    if ((budget.tokens !== undefined && used.tokens >= budget.tokens) || (budget.costUsd !== undefined && used.costUsd >= budget.costUsd)) {
      throw failure(
        ErrorCode.BudgetExceeded,
        `agent ${agentName} has used ${used.tokens} tokens and $${used.costUsd.toFixed(4)} in the last ${budget.window / 3_600_000}h; its budget is ${budget.tokens ?? '∞'} tokens and $${budget.costUsd ?? '∞'}`,
      );
    }
  }

  /**
   * The tools a model may be offered: those of approved, unmodified servers, minus those the catalog
   * withholds, sanitized. A server that is refused or broken (unreachable, 401, a bad token, a redirect)
   * is left out, with a warning from the pool, rather than failing a run that may never call it; calls to
   * it are denied by control or fail on their own. Servers are asked in parallel: a slow one delays no other.
   */
  async function offeredTools(agent: AgentConfig): Promise<ToolInfo[]> {
    const listed = await Promise.all(agent.servers.map(async (server) => ({ server, live: await pool.availableTools(server) })));
    return listed.flatMap(({ server, live }) => (live ?? []).filter((tool) => pool.catalogAllows(server, tool.name)).map((tool) => ({ server, tool: sanitizeJson(tool) })));
  }

  function recorder(at: { runId: string; agent: string; identity?: RunIdentity; choice: RouteChoice; classification: Classification; step: number; node?: string }): RoutedRecorder {
    const { runId, agent, identity, choice, classification, step, node } = at;
    return (outcome, data) =>
      writer.write(
        writer.own(runId, [
          {
            key: 'routed',
            type: 'model.routed',
            at: new Date().toISOString(),
            ...(identity ? { principal: identity.subject, ...(identity.onBehalfOf ? { onBehalfOf: identity.onBehalfOf } : {}) } : {}),
            agent,
            outcome,
            data: { step, ...(node ? { node } : {}), model: choice.model, reason: choice.reason, classification, skipped: choice.skipped, ...data },
          },
        ]),
      );
  }

  /** A provider's failure (the workflow falls back) or unusable output (the workflow repairs), recorded; anything else as it came. */
  async function modelFailure(err: unknown, choice: RouteChoice, record: RoutedRecorder): Promise<unknown> {
    if (err instanceof ProviderError) {
      await record('error', { error: err.kind, message: err.message, ...(err.status ? { status: err.status } : {}) });
      return failure(ErrorCode.ProviderUnavailable, `${choice.model}: ${err.message}`, [{ model: choice.model, kind: err.kind }]);
    }
    if (err instanceof PlannerOutputError) return invalidOutput(err.message, err.message, choice, record);
    return err;
  }

  /** An answer that cannot be used: recorded as `invalid`, failed as ModelOutputInvalid (repairable). */
  async function invalidOutput(recorded: string, message: string, choice: RouteChoice, record: RoutedRecorder): Promise<unknown> {
    await record('invalid', { message: recorded });
    return failure(ErrorCode.ModelOutputInvalid, message, [{ model: choice.model }]);
  }

  /** Which model answered, why, and what it cost; recorded as the attempt's success. */
  async function succeeded(answer: { usage: TokenUsage; model: string }, choice: RouteChoice, classification: Classification, record: RoutedRecorder): Promise<ModelUse> {
    const use: ModelUse = {
      provider: choice.model,
      model: answer.model,
      reason: choice.reason,
      classification,
      inputTokens: answer.usage.inputTokens,
      outputTokens: answer.usage.outputTokens,
      costUsd: costOf(config, choice.model, answer.usage),
    };
    await record('success', { modelId: use.model, inputTokens: use.inputTokens, outputTokens: use.outputTokens, costUsd: use.costUsd });
    return use;
  }

  return { agentOf, choose, checkBudget, offeredTools, recorder, modelFailure, invalidOutput, succeeded };
}
export type ModelGovernance = ReturnType<typeof createModelGovernance>;

export function createModelActivities(deps: ModelDeps) {
  const { config, writer, blobs } = deps;
  const gov = createModelGovernance(deps);

  async function plan({ runId, agent: agentName, input, steps, identity, audit: queued, exclude, repair }: PlanInput): Promise<PlanStepResult> {
    const agent = gov.agentOf(agentName);
    await writer.write(queued ?? []);

    const classification = runClassification(
      config,
      agentName,
      steps.filter((s) => s.result).map((s) => s.tool.slice(0, s.tool.indexOf('.'))),
    );
    const { choice, planner } = gov.choose({ task: 'plan', agent: agentName, classification, exclude });
    await gov.checkBudget(agentName);
    const tools: ToolInfo[] = planner.name !== 'embedded' ? await gov.offeredTools(agent) : [];
    const record = gov.recorder({ runId, agent: agentName, identity, choice, classification, step: steps.length });

    let result;
    try {
      // Large results were stored aside: the planner sees the values, history only the references.
      result = await planner.plan({ runId, agentName, agent, input, steps: blobs.resolve(steps), tools, ...(repair ? { repair } : {}) });
    } catch (err) {
      throw await gov.modelFailure(err, choice, record);
    }
    let next = result.output;
    // A call to a tool the model was not offered is a malformed answer (repairable), not a policy question.
    if (next.kind === 'call' && planner.name !== 'embedded') {
      const { server, tool } = next.call;
      if (!tools.some((t) => t.server === server && t.tool.name === tool)) {
        throw await gov.invalidOutput(
          `unknown tool ${server}.${tool}`,
          `the model called ${server}.${tool}, which is not among the tools offered (${tools.map((t) => `${t.server}.${t.tool.name}`).join(', ')})`,
          choice,
          record,
        );
      }
    }
    if (next.kind === 'final') next = { kind: 'final', answer: blobs.keep(next.answer) };
    const use = await gov.succeeded(result, choice, classification, record);
    return { next, model: use };
  }
  return { plan };
}
