// Playbook templates: `{{input.customerId}}`, `{{steps.billing.get_invoice.amount}}`, `{{a ?? b}}`, filled from a
// scope (the run's input, its earlier tool results, and on failure its outcome). Pure: the embedded planner, the
// built-in agent's failure steps and the policy facts (workflow code) all fill templates with it.
import type { Json, StepView } from './types.js';

/** A template names a value the scope does not have (a step that did not run, an input not given). */
export class TemplateValueMissing extends Error {
  override readonly name = 'TemplateValueMissing';
  constructor(readonly expr: string) {
    super(`playbook template {{${expr}}} has no value`);
  }
}

/** `steps.<server>.<tool>` → the latest result of that tool among `steps`. */
export function stepResults(steps: readonly StepView[]): Record<string, Record<string, Json>> {
  const out: Record<string, Record<string, Json>> = {};
  for (const s of steps) {
    const dot = s.tool.indexOf('.');
    (out[s.tool.slice(0, dot)] ??= {})[s.tool.slice(dot + 1)] = s.result?.data ?? null;
  }
  return out;
}

/** The steps whose results templates may read: those that ran to a result that is not an error. */
export const succeededSteps = (steps: readonly StepView[]): StepView[] => steps.filter((s) => s.status === 'completed' && !s.result?.isError);

/**
 * Fills every template in `value` (strings, nested in arrays and objects). A template that is the whole string keeps
 * the value's type (numbers stay numbers, objects stay objects); inside text, non-strings are written as JSON.
 * Throws TemplateValueMissing when no alternative of a template has a value.
 */
export function fillTemplates(value: unknown, scope: object): Json {
  if (typeof value === 'string') {
    const whole = /^\{\{([^}]+)\}\}$/.exec(value);
    if (whole) return evaluate(whole[1]!, scope);
    return value.replace(/\{\{([^}]+)\}\}/g, (_m, expr: string) => {
      const v = evaluate(expr, scope);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fillTemplates(v, scope));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTemplates(v, scope)]));
  return value as Json;
}

/** `a.b.c ?? d.e`: the first alternative with a value (not undefined, not null). */
function evaluate(expr: string, scope: object): Json {
  for (const alt of expr.split('??').map((s) => s.trim())) {
    const v = alt.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), scope);
    if (v !== undefined && v !== null) return v as Json;
  }
  throw new TemplateValueMissing(expr);
}

/**
 * Facts a policy may read (`context.facts`): each declared fact's template filled from the run's input and its
 * succeeded steps. A fact whose template has no value (its step did not run) is left out.
 */
export function factsOf(declared: Readonly<Record<string, string>> | undefined, input: Json, steps: readonly StepView[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (!declared) return out;
  const scope = { input, steps: stepResults(succeededSteps(steps)) };
  for (const [name, template] of Object.entries(declared)) {
    try {
      out[name] = fillTemplates(template, scope);
    } catch (err) {
      if (!(err instanceof TemplateValueMissing)) throw err;
    }
  }
  return out;
}
