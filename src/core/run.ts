// Rules about a run as a whole: its id, its statuses, its risk level and its model budget.
import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256Hex } from './canonical.js';
import type { AgentSpec, Decision, ModelUse, Reconciliation, RunStatus, RunUsage, StepView } from './types.js';

export const RUN_STATUSES: readonly RunStatus[] = ['running', 'awaiting_approval', 'awaiting_input', 'completed', 'rejected', 'failed', 'cancelled'];
/** Statuses of a run that has not ended: it may still be cancelled, and its workflow is open. */
export const OPEN_RUN_STATUSES: readonly RunStatus[] = ['running', 'awaiting_approval', 'awaiting_input'];
export const isOpen = (status: RunStatus): boolean => OPEN_RUN_STATUSES.includes(status);

/** The run (= workflow) id for a caller's Idempotency-Key: the same key from the same caller names the same run. */
export function runIdForKey(subject: string, idempotencyKey: string): string {
  return `run-${sha256Hex(`${subject}\0${idempotencyKey}`).slice(0, 20)}`;
}

/** A fresh run id from 10 random bytes (the caller brings the randomness: the core does no I/O). */
export function runIdFromBytes(random: Uint8Array): string {
  return `run-${bytesToHex(random.subarray(0, 10))}`;
}

export type Risk = 'low' | 'medium' | 'high';
const RISK_ORDER: readonly Risk[] = ['low', 'medium', 'high'];

/** Risk a decision shows: denials and approvals are high, writes policy allowed medium, reads low. */
export function riskOf(d: Pick<Decision, 'outcome' | 'write'>): Risk {
  return d.outcome !== 'allow' ? 'high' : d.write ? 'medium' : 'low';
}

/** A run's risk only ever rises. */
export function raiseRisk(current: Risk, d: Pick<Decision, 'outcome' | 'write'>): Risk {
  const level = riskOf(d);
  return RISK_ORDER.indexOf(level) > RISK_ORDER.indexOf(current) ? level : current;
}

export function addUsage(u: RunUsage, m: Pick<ModelUse, 'inputTokens' | 'outputTokens' | 'costUsd'>): RunUsage {
  return {
    calls: u.calls + 1,
    inputTokens: u.inputTokens + m.inputTokens,
    outputTokens: u.outputTokens + m.outputTokens,
    costUsd: Math.round((u.costUsd + m.costUsd) * 1e6) / 1e6,
  };
}

/** The per-run budget the run has used up, as a sentence, or undefined while it has some left. */
export function overBudget(budget: AgentSpec['budget'], usage: RunUsage): string | undefined {
  if (!budget) return undefined;
  const tokens = usage.inputTokens + usage.outputTokens;
  if (budget.tokens !== undefined && tokens >= budget.tokens) return `the run used ${tokens} model tokens; its budget is ${budget.tokens}`;
  if (budget.costUsd !== undefined && usage.costUsd >= budget.costUsd) return `the run's model calls cost $${usage.costUsd}; its budget is $${budget.costUsd}`;
  return undefined;
}

/**
 * The reconciliation record of a run that ends without completing after it changed a business system (a write
 * that completed): what ran and what did not, so a person can finish or undo it. Null when there is nothing to
 * reconcile: the run completed, or it changed nothing.
 */
/** How a step's error starts when a write was sent and its answer lost: it may or may not have run. */
export const OUTCOME_UNKNOWN = 'outcome unknown';

/** A write that was sent and whose answer was lost (its worker, or its connection): it may have taken effect. */
export const outcomeUnknown = (s: StepView): boolean => s.status === 'failed' && !!s.decision?.write && !!s.error?.startsWith(OUTCOME_UNKNOWN);

export function reconciliationOf(steps: StepView[], status: RunStatus, error?: { message: string }): Reconciliation | null {
  if (status === 'completed' || isOpen(status)) return null;
  const done = steps.filter((s) => s.status === 'completed' && s.decision?.write);
  // A write whose outcome is unknown may have changed a system too: a person must look either way.
  if (!done.length && !steps.some(outcomeUnknown)) return null;
  const notDone = steps.filter((s) => s.status !== 'completed');
  const unknown = steps.filter(outcomeUnknown);
  const changes = [
    ...(done.length ? [`${done.length} change${done.length === 1 ? '' : 's'} to business systems (${[...new Set(done.map((s) => s.tool))].join(', ')})`] : []),
    ...(unknown.length ? [`${unknown.length} write${unknown.length === 1 ? '' : 's'} whose outcome is unknown (${[...new Set(unknown.map((s) => s.tool))].join(', ')})`] : []),
  ].join(' and ');
  return {
    reason: `the run ended ${status} after ${changes}${error ? `: ${error.message}` : ''}; finish or undo the work by hand`,
    done: done.map((s) => ({ step: s.index, tool: s.tool, args: s.args, ...(s.result?.digest ? { resultDigest: s.result.digest } : {}) })),
    notDone: notDone.map((s) => ({ step: s.index, tool: s.tool, args: s.args, status: s.status, ...(s.error ? { error: s.error } : {}) })),
  };
}
