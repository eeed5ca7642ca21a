// One registry of error codes. Each code is thrown once as `ApplicationFailure.type` (workflow and
// activities) or as an API error, and carries its retry behaviour, HTTP status, wire code and
// category here, so no adapter decides them on its own.

/** Who has to act: the caller (user), Airlock's operators (system), or a system Airlock depends on (third party). */
export type ErrorCategory = 'user' | 'system' | 'third_party';

export interface ErrorSpec {
  /** May Temporal retry the activity that threw it? (Ignored for workflow failures: they end the run.) */
  retryable: boolean;
  /** HTTP status when the error crosses the API. */
  http: number;
  /** The stable `error.code` of the REST contract. */
  wire: string;
  category: ErrorCategory;
}

const spec = (retryable: boolean, http: number, wire: string, category: ErrorCategory): ErrorSpec => ({ retryable, http, wire, category });

/** Every error code and what it means for retries and for HTTP. */
export const ERRORS = {
  // Approval decisions and human input (refused by the workflow's update validator).
  NotFound: spec(false, 404, 'not_found', 'user'),
  Forbidden: spec(false, 403, 'forbidden', 'user'),
  AlreadyDecided: spec(false, 409, 'already_decided', 'user'),
  Expired: spec(false, 410, 'expired', 'user'),
  InvalidEdit: spec(false, 422, 'invalid_edit', 'user'),
  DigestMismatch: spec(false, 409, 'digest_mismatch', 'user'),
  AlreadyAnswered: spec(false, 409, 'already_answered', 'user'),
  // How a run ends when it fails.
  PolicyDenied: spec(false, 403, 'policy_denied', 'user'),
  StepLimitExceeded: spec(false, 422, 'step_limit_exceeded', 'user'),
  OutcomeUnknown: spec(false, 500, 'outcome_unknown', 'third_party'),
  ToolCallFailed: spec(false, 502, 'tool_call_failed', 'third_party'),
  PlannerFailed: spec(false, 500, 'planner_failed', 'system'),
  AgentFailed: spec(false, 422, 'agent_failed', 'user'),
  InternalError: spec(false, 500, 'internal', 'system'),
  // Model routing and model output (activities/model.ts); the workflow falls back or repairs on them.
  ProviderUnavailable: spec(false, 502, 'provider_unavailable', 'third_party'),
  ModelsExhausted: spec(false, 503, 'models_exhausted', 'third_party'),
  ModelRoutingDenied: spec(false, 403, 'model_routing_denied', 'user'),
  ModelOutputInvalid: spec(false, 502, 'model_output_invalid', 'third_party'),
  BudgetExceeded: spec(false, 429, 'budget_exceeded', 'user'),
  // Registry and MCP servers.
  ServerNotFound: spec(false, 404, 'server_not_found', 'system'),
  RegistryRefused: spec(false, 409, 'registry_refused', 'system'),
  InvalidToolSchema: spec(false, 502, 'invalid_tool_schema', 'third_party'),
  // The audit store is down: retried until it takes the record, and nothing it should record goes ahead meanwhile.
  AuditUnavailable: spec(true, 503, 'audit_unavailable', 'system'),
  // A tool call whose authorization could not be recorded is not made, and the run stops at once rather than
  // calling later on a decision an approver took minutes ago (the approval is re-asked in a new run).
  UnrecordedCall: spec(false, 503, 'unrecorded_call', 'system'),
  /** An open run that did not answer the API's query (no worker is polling its task queue, or it timed out). */
  RunUnavailable: spec(true, 503, 'run_unavailable', 'system'),
  // Notifications (activities/notify.ts): a receiver that is down or busy is retried; one that refuses (4xx), or a
  // channel this worker does not have, is not. Either way the run goes on.
  NotificationFailed: spec(true, 502, 'notification_failed', 'third_party'),
  NotificationRefused: spec(false, 502, 'notification_refused', 'third_party'),
  // API edge only.
  Unauthorized: spec(false, 401, 'unauthorized', 'user'),
  InvalidRequest: spec(false, 400, 'invalid_request', 'user'),
  InvalidJson: spec(false, 400, 'invalid_json', 'user'),
  BadRequest: spec(false, 400, 'bad_request', 'user'),
  TooLarge: spec(false, 413, 'too_large', 'user'),
  /** A body that is not `application/json`, or none where one is needed. */
  UnsupportedMediaType: spec(false, 415, 'unsupported_media_type', 'user'),
  /** A path the API serves, with a method it does not (the response's `Allow` lists the others). */
  MethodNotAllowed: spec(false, 405, 'method_not_allowed', 'user'),
  UnknownAgent: spec(false, 400, 'unknown_agent', 'user'),
  InvalidInput: spec(false, 400, 'invalid_input', 'user'),
  /** The same Idempotency-Key with another request body. */
  IdempotencyKeyReused: spec(false, 422, 'idempotency_key_reused', 'user'),
  RunClosed: spec(false, 409, 'run_closed', 'user'),
  /** How a rejected run ends in Temporal: failed with this type (and the run's view), so it never looks like a success. */
  RunRejected: spec(false, 409, 'run_rejected', 'user'),
  Retired: spec(false, 409, 'retired', 'user'),
  Findings: spec(false, 422, 'findings', 'user'),
  DecisionRefused: spec(false, 422, 'decision_refused', 'user'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The codes by name (`ErrorCode.PolicyDenied`), so no code is ever a string typed by hand. */
export const ErrorCode = Object.fromEntries(Object.keys(ERRORS).map((k) => [k, k])) as { readonly [K in ErrorCode]: K };

export function isErrorCode(type: unknown): type is ErrorCode {
  return typeof type === 'string' && Object.hasOwn(ERRORS, type);
}

/** The error's spec; an unknown type (a bug, or a third party's) is an internal error. */
export function errorSpec(type: string | undefined | null): ErrorSpec {
  return isErrorCode(type) ? ERRORS[type] : ERRORS.InternalError;
}

/** Codes Temporal must not retry: the retry presets list them, the failures carry the flag. */
export const NON_RETRYABLE: ErrorCode[] = (Object.keys(ERRORS) as ErrorCode[]).filter((c) => !ERRORS[c].retryable);

/** An error of the domain: a code from the registry and a message for a person. Adapters turn it into a failure or a response. */
export class AirlockError extends Error {
  override readonly name = 'AirlockError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get spec(): ErrorSpec {
    return ERRORS[this.code];
  }
}
