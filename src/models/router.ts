// Which model serves a task: declarative routes by task class, agent and data classification,
// filtered by each provider's clearance. No eligible model means no model call (fail closed).
import type { AirlockConfig } from '../config/load.js';

import { clearedFor, DEFAULT_CLASSIFICATION, maxClassification, type Classification } from '../core/classification.js';

/** The embedded planner runs inside the worker: it may see any data. */
export const EMBEDDED = 'embedded';

export interface RouteRequest {
  /** Task class: `plan`, `summarize`, `extract`, `classify-sensitivity`, … */
  task: string;
  agent: string;
  classification: Classification;
  /** Models that already failed for this request (fallback). */
  exclude?: string[];
}

export interface RouteChoice {
  /** Eligible models, best first; the first not excluded serves the request. */
  chain: string[];
  /** The model to use now. */
  model: string;
  /** Why this model: the route, or the agent's default, and the classification it is cleared for. */
  reason: string;
  /** Models of the route left out, and why (clearance, or an earlier failure). */
  skipped: Array<{ model: string; why: string }>;
  /** Index of the matching route in `routing.routes`, or null for the agent's default model. */
  route: number | null;
}

export class RoutingError extends Error {
  override readonly name = 'RoutingError';
  constructor(
    message: string,
    /** `denied`: no model is cleared for the data (fail closed). `exhausted`: every eligible model failed. */
    readonly kind: 'denied' | 'exhausted',
  ) {
    super(message);
  }
}

/**
 * A run's data classification: the highest of its agent's `inputClassification` (what requesters may
 * put in the input) and the classification of every server whose results it has seen. The one rule
 * for plan steps and for the tool messages of an agent's own graph.
 */
export function runClassification(config: AirlockConfig, agent: string, serversSeen: Iterable<string>): Classification {
  const seen = [...serversSeen].map((s) => config.servers[s]?.classification ?? DEFAULT_CLASSIFICATION);
  return maxClassification([config.agents[agent]?.inputClassification ?? DEFAULT_CLASSIFICATION, ...seen]);
}

export function clearanceOf(config: AirlockConfig, model: string): Classification {
  if (model === EMBEDDED) return 'restricted';
  return config.models[model]?.clearance ?? 'internal';
}

export function route(config: AirlockConfig, req: RouteRequest): RouteChoice {
  const routes = config.routing.routes;
  const index = routes.findIndex((r) => (r.task === '*' || r.task === req.task) && (!r.agents || r.agents.includes(req.agent)) && (!r.classification || r.classification.includes(req.classification)));
  const r = index >= 0 ? routes[index]! : null;
  const candidates = r ? r.models : [config.agents[req.agent]?.model ?? EMBEDDED];
  const skipped: RouteChoice['skipped'] = [];
  const chain: string[] = [];
  for (const m of candidates) {
    const clearance = clearanceOf(config, m);
    if (!clearedFor(clearance, req.classification)) skipped.push({ model: m, why: `cleared for ${clearance} data, the run holds ${req.classification}` });
    else chain.push(m);
  }
  const where = r ? `route ${index + 1} (${r.task}${r.classification ? ` for ${r.classification.join('/')}` : ''}${r.reason ? `: ${r.reason}` : ''})` : `agent ${req.agent}'s default model`;
  if (!chain.length) {
    throw new RoutingError(`no model of ${where} is cleared for ${req.classification} data (${skipped.map((s) => `${s.model}: ${s.why}`).join('; ')})`, 'denied');
  }
  const excluded = new Set(req.exclude ?? []);
  const model = chain.find((m) => !excluded.has(m));
  for (const m of chain) if (excluded.has(m)) skipped.push({ model: m, why: 'failed earlier for this step' });
  if (!model) throw new RoutingError(`every model of ${where} failed for this step (${chain.join(', ')})`, 'exhausted');
  return { chain, model, reason: `${where}; ${model} is cleared for ${clearanceOf(config, model)} data`, skipped, route: r ? index : null };
}

/** USD for the tokens at the provider's price per million tokens (the embedded planner is free). */
export function costOf(config: AirlockConfig, model: string, usage: { inputTokens: number; outputTokens: number }): number {
  const price = config.models[model]?.price;
  if (!price) return 0;
  return Math.round(((usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1e6) * 1e6) / 1e6;
}
