// Named timeout and retry presets. No activity runs without a startToCloseTimeout.
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../src/core/errors.js';

/** Codes whose failures Temporal must not retry (src/core/errors.ts): the failures carry the flag too. */
const nonRetryableErrorTypes = [...NON_RETRYABLE];

/** Planner (model) calls: bounded retries; malformed output is a non-retryable PlannerFailed. */
export const MODEL_CALL: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes },
};

/**
 * A graph's model calls (the chat activity): like MODEL_CALL, and the activity heartbeats, so a worker lost
 * mid-call is noticed within seconds and the call retried on another, instead of at the 2-minute timeout.
 */
export const CHAT_CALL: ActivityOptions = { ...MODEL_CALL, heartbeatTimeout: '10 seconds' };

/** Control decisions of runs started before they became local activities (see agentRun.ts). */
export const CONTROL_DECISION: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes },
};

/** Tool calls that are safe to repeat (read-only, or idempotent with an idempotency key). */
export const TOOL_CALL_RETRYING: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes },
};

/**
 * Writes that are not idempotent run at most once: if the worker dies mid-call the outcome is
 * unknown, and the run stops for human reconciliation instead of risking a duplicate.
 */
export const TOOL_CALL_ONCE: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
};

/**
 * Audit writes of workflow events: retried until the store takes them (never skipped). While the store
 * is down the run waits here, and no tool call runs.
 */
export const AUDIT_WRITE: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
};

/**
 * Control decisions and the embedded planner run as local activities: in the worker that runs the
 * workflow, recorded in history as markers, without a round trip through the task queue. Same
 * retries, same fail-closed result.
 */
export const CONTROL_DECISION_LOCAL: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes },
};

export const EMBEDDED_PLAN_LOCAL: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes },
};

/** The agent's tool definitions (pinned, sanitized), fetched once when a graph agent's run starts. */
export const AGENT_TOOLS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes },
};

/** Checking the API's proof on a person's message: a local activity before the message is recorded. */
export const VERIFY_PROOF_LOCAL: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes },
};

/**
 * Notifications (activities/notify.ts): one activity per event and channel, retried with backoff; the run never
 * waits on them. A run's pinned delivery settings (AgentSpec.notify) set the attempts, first interval and timeout.
 */
export const NOTIFY_DELIVERY: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes },
};
