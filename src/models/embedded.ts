import { fillTemplates, stepResults, TemplateValueMissing } from '../core/templates.js';
import type { JsonObject, PlanOutput } from '../core/types.js';
import { PlannerOutputError, type PlanContext, type Planner, type PlanResult } from './types.js';

/**
 * The default planner: no model, no API key. It follows the agent's playbook step by step,
 * filling argument templates from the run input and earlier tool results:
 *   "{{input.customerId}}", "{{steps.billing.get_invoice.amount}}", "{{input.amount ?? steps.billing.get_invoice.refundableAmount}}".
 * A template that is the whole string keeps the value's type (numbers stay numbers).
 */
export class EmbeddedPlanner implements Planner {
  readonly name = 'embedded';

  async plan(ctx: PlanContext): Promise<PlanResult> {
    return { output: this.next(ctx), usage: { inputTokens: 0, outputTokens: 0 }, model: 'embedded' };
  }

  private next(ctx: PlanContext): PlanOutput {
    const done = ctx.steps.filter((s) => s.status === 'completed');
    const failed = done.find((s) => s.result?.isError);
    if (failed) return { kind: 'fail', reason: `${failed.tool} returned an error: ${JSON.stringify(failed.result?.data)}` };
    const next = ctx.agent.playbook[done.length];
    if (!next) {
      return {
        kind: 'final',
        answer: { summary: `${ctx.agentName} finished ${done.length} steps`, steps: done.map((s) => ({ tool: s.tool, result: s.result?.data ?? null })) },
      };
    }
    const dot = next.tool.indexOf('.');
    const scope = { input: ctx.input, steps: stepResults(done) };
    return {
      kind: 'call',
      call: { server: next.tool.slice(0, dot), tool: next.tool.slice(dot + 1), args: fill(next.args, scope) },
      thought: `playbook step ${done.length + 1}: ${next.tool}`,
    };
  }
}

/** The step's args; a template without a value is the planner's error (the playbook cannot go on). */
function fill(args: Record<string, unknown>, scope: object): JsonObject {
  try {
    return fillTemplates(args, scope) as JsonObject;
  } catch (err) {
    throw err instanceof TemplateValueMissing ? new PlannerOutputError(err.message) : err;
  }
}
