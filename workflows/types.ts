// Pure types and constants shared by the workflow, activities, API and tests.
// No I/O and no runtime imports beyond Temporal's pure common module.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** Verified identity, taken from the bearer token at the API edge; never from a request body. */
export interface Principal {
  subject: string;
  kind: 'user' | 'service';
  groups: string[];
  roles: string[];
}

export type RunStatus = 'running' | 'awaiting_approval' | 'completed' | 'rejected' | 'failed' | 'cancelled';

/** Agent settings pinned into the run at start, so config changes never alter a running workflow. */
export interface AgentSpec {
  name: string;
  servers: string[];
  maxSteps: number;
  approvalExpiresMs: number;
  /** Namespaced tool → approver group. */
  approvalRules: Record<string, string>;
}

export interface RunInput {
  runId: string;
  agent: AgentSpec;
  input: JsonObject;
  principal: Principal;
}

export interface ToolCall {
  server: string;
  tool: string;
  args: JsonObject;
}

export interface Decision {
  outcome: 'allow' | 'deny' | 'require_approval';
  reason: string;
  requiredGroup?: string;
  /** True when the tool changes state (not annotated read-only). */
  write: boolean;
  /** The tool retries safely (read-only, or annotated idempotent). */
  idempotent: boolean;
  /** The args that will run: the proposed ones, plus an idempotency key the control layer sets. */
  args: JsonObject;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';

export interface Approval {
  approvalId: string;
  runId: string;
  step: number;
  tool: string;
  args: JsonObject;
  requiredGroup: string;
  requestedBy: string;
  requestedAt: string;
  expiresAt: string;
  status: ApprovalStatus;
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
}

export interface ToolResultView {
  isError: boolean;
  /** Structured content when the tool returned it, else the text content. */
  data: Json;
}

export interface StepView {
  index: number;
  tool: string;
  args: JsonObject;
  decision?: { outcome: Decision['outcome']; reason: string };
  approvalId?: string;
  status: 'proposed' | 'awaiting_approval' | 'running' | 'completed' | 'denied' | 'rejected' | 'failed';
  result?: ToolResultView;
  error?: string;
}

export interface RunView {
  runId: string;
  agent: string;
  requester: string;
  status: RunStatus;
  steps: StepView[];
  pendingApprovals: Approval[];
  approvals: Approval[];
  result: Json;
  error?: { type: string; message: string };
  waitingFor?: string;
}

/** What a planner proposes next. */
export type PlanOutput =
  | { kind: 'call'; call: ToolCall; thought?: string }
  | { kind: 'final'; answer: Json }
  | { kind: 'fail'; reason: string };

export interface DecideApprovalInput {
  approvalId: string;
  decision: 'approve' | 'reject';
  comment?: string;
  /** Filled by the API from the verified token. */
  approver: Pick<Principal, 'subject' | 'groups'>;
}

/** Error types thrown as ApplicationFailure.type and mapped to HTTP by the API. */
export const ErrorTypes = {
  NotFound: 'NotFound',
  Forbidden: 'Forbidden',
  AlreadyDecided: 'AlreadyDecided',
  Expired: 'Expired',
  PolicyDenied: 'PolicyDenied',
  StepLimitExceeded: 'StepLimitExceeded',
  OutcomeUnknown: 'OutcomeUnknown',
  ToolCallFailed: 'ToolCallFailed',
  PlannerFailed: 'PlannerFailed',
  AgentFailed: 'AgentFailed',
} as const;

export function approvalIdFor(runId: string, step: number): string {
  return `${runId}.a${step}`;
}

/** The run (= workflow) id an approval id belongs to, or undefined if malformed. */
export function runIdOfApproval(approvalId: string): string | undefined {
  const m = /^(run-[a-z0-9]+)\.a(\d+)$/.exec(approvalId);
  return m ? m[1] : undefined;
}
