// Prometheus metrics of the process. Counters and histograms are recorded where things happen (the
// worker's activity interceptor, the approval REST call); gauges about runs and approvals are read from
// Temporal visibility when /metrics is scraped, so every API replica reports the same cluster-wide numbers.
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PENDING_MEMO, SA } from '../../workflows/definitions.js';
import { isOpen, RUN_STATUSES } from '../core/run.js';
import type { Approval } from '../core/types.js';
import type { Logger } from '../log/logger.js';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const POLICY_OUTCOMES = ['allow', 'deny', 'require_approval'] as const;

/** Tool call attempts by outcome: `success`, `tool_error` (the tool answered isError), `failure` (the call failed). */
export const toolCalls = new Counter({
  name: 'airlock_tool_calls_total',
  help: 'MCP tool call attempts made by activities, by server, tool and outcome (success, tool_error, failure).',
  labelNames: ['server', 'tool', 'outcome'] as const,
  registers: [registry],
});

export const toolCallDuration = new Histogram({
  name: 'airlock_tool_call_duration_seconds',
  help: 'Duration of MCP tool call attempts, by server, tool and outcome.',
  labelNames: ['server', 'tool', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [registry],
});

/** Control decisions by outcome: `allow`, `deny`, `require_approval`, or `error` when the decision itself failed. */
export const policyDecisions = new Counter({
  name: 'airlock_policy_decisions_total',
  help: 'Control decisions on proposed tool calls, by outcome (allow, deny, require_approval; error when deciding failed, which denies).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const mcpErrors = new Counter({
  name: 'airlock_mcp_errors_total',
  help: 'Failed MCP tool calls, by server and kind (RegistryRefused, ServerNotFound, timeout, protocol, cancelled, other).',
  labelNames: ['server', 'kind'] as const,
  registers: [registry],
});

export const approvalDecisionLatency = new Histogram({
  name: 'airlock_approval_decision_latency_seconds',
  help: 'Time from an approval request to its decision over REST, by the resulting approval status.',
  labelNames: ['decision'] as const,
  buckets: [10, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600, 7 * 24 * 3600],
  registers: [registry],
});

/** Runs that ended with work half done (a reconciliation record), counted when the record is written. */
export const runsNeedingReconciliation = new Counter({
  name: 'airlock_runs_needing_reconciliation_total',
  help: 'Runs that ended without completing after changing a business system (their run.reconciliation record was written; a retried write may count twice).',
  labelNames: ['agent'] as const,
  registers: [registry],
});

const runs = new Gauge({
  name: 'airlock_runs',
  help: 'Runs by Airlock status (AirlockStatus search attribute; running and awaiting_approval count open workflows only), from Temporal visibility at scrape time.',
  labelNames: ['status'] as const,
  registers: [registry],
});
const approvalsPending = new Gauge({ name: 'airlock_approvals_pending', help: 'Pending approvals of open runs, from Temporal visibility at scrape time.', registers: [registry] });
const oldestPendingAge = new Gauge({
  name: 'airlock_approval_pending_oldest_age_seconds',
  help: 'Age of the oldest pending approval (0 when none), from Temporal visibility at scrape time.',
  registers: [registry],
});
const visibilityUp = new Gauge({
  name: 'airlock_visibility_up',
  help: '1 when the last scrape could read runs and approvals from Temporal visibility, else 0 (airlock_runs is then absent and the approval gauges NaN).',
  registers: [registry],
});

// Every series exists from the start, so rates and alerts see a zero rather than nothing.
for (const outcome of POLICY_OUTCOMES) policyDecisions.inc({ outcome }, 0);

/** Records a decision returned by the approval REST call (a vote that leaves the approval pending is not one). */
export function observeApprovalDecision(approval: Pick<Approval, 'status' | 'requestedAt' | 'decidedAt'>, now = Date.now()): void {
  if (approval.status === 'pending') return;
  const decided = approval.decidedAt ? Date.parse(approval.decidedAt) : now;
  const seconds = (decided - Date.parse(approval.requestedAt)) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0) approvalDecisionLatency.observe({ decision: approval.status }, seconds);
}

/** Reads the run and approval gauges from visibility: one count per status, and a list of the runs awaiting approval. */
export async function refreshVisibilityGauges(client: Client, now = Date.now()): Promise<void> {
  const open = ` AND ExecutionStatus = 'Running'`;
  const counts = await Promise.all(RUN_STATUSES.map((s) => client.workflow.count(`${SA.status.name} = '${s}'${isOpen(s) ? open : ''}`)));
  let pending = 0;
  let oldest = 0;
  for await (const wf of client.workflow.list({ query: `${SA.status.name} = 'awaiting_approval'${open}`, pageSize: 1000 })) {
    for (const a of (wf.memo?.[PENDING_MEMO] ?? []) as Approval[]) {
      if (a.status !== 'pending') continue;
      pending++;
      oldest = Math.max(oldest, (now - Date.parse(a.requestedAt)) / 1000);
    }
  }
  RUN_STATUSES.forEach((status, i) => runs.set({ status }, counts[i]!.count));
  approvalsPending.set(pending);
  oldestPendingAge.set(oldest);
}

/** `GET /metrics`: this process's metrics plus the visibility gauges (concurrent scrapes share one refresh). */
export function metricsHandler(client: Client, log: Logger): RequestHandler {
  let refreshing: Promise<void> | undefined;
  return async (_req, res) => {
    refreshing ??= refreshVisibilityGauges(client)
      .then(() => void visibilityUp.set(1))
      .catch((err) => {
        log.warn({ err }, 'metrics: cannot read runs and approvals from Temporal visibility');
        visibilityUp.set(0);
        runs.reset();
        approvalsPending.set(Number.NaN);
        oldestPendingAge.set(Number.NaN);
      })
      .finally(() => (refreshing = undefined));
    await refreshing;
    res.setHeader('content-type', registry.contentType);
    res.send(await registry.metrics());
  };
}
