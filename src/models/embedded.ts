import type { Json, JsonObject, PlanOutput, StepView } from '../core/types.js';
import { PlannerOutputError, type PlanContext, type Planner, type PlanResult } from './types.js';

/**
 * The default planner: no model, no API key. It follows the agent's playbook step by step,
 * filling argument templates from the run input and earlier tool results:
 *   "{{input.customerId}}", "{{steps.billing.get_invoice.amount}}", "{{input.amount ?? steps.billing.get_invoice.amount}}".
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
      call: { server: next.tool.slice(0, dot), tool: next.tool.slice(dot + 1), args: fill(next.args, scope) as JsonObject },
      thought: `playbook step ${done.length + 1}: ${next.tool}`,
    };
  }
}

/** `steps.<server>.<tool>` → the latest result of that tool. */
function stepResults(steps: StepView[]): Record<string, Record<string, Json>> {
  const out: Record<string, Record<string, Json>> = {};
  for (const s of steps) {
    const [server, tool] = [s.tool.slice(0, s.tool.indexOf('.')), s.tool.slice(s.tool.indexOf('.') + 1)];
    (out[server] ??= {})[tool] = s.result?.data ?? null;
  }
  return out;
}

function fill(value: unknown, scope: object): Json {
  if (typeof value === 'string') {
    const whole = /^\{\{([^}]+)\}\}$/.exec(value);
    if (whole) return evaluate(whole[1]!, scope);
    return value.replace(/\{\{([^}]+)\}\}/g, (_m, expr: string) => {
      const v = evaluate(expr, scope);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, scope));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, scope)]));
  return value as Json;
}

function evaluate(expr: string, scope: object): Json {
  for (const alt of expr.split('??').map((s) => s.trim())) {
    const v = alt.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), scope);
    if (v !== undefined && v !== null) return v as Json;
  }
  throw new PlannerOutputError(`playbook template {{${expr}}} has no value`);
}
