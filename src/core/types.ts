// The domain's types, shared by the core, the workflow, the activities, the API and the tests. Types only.
import type { Classification } from './classification.js';
import type { RunLabels, Trust } from './labels.js';
import type { NotifySpec } from './notifications.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** Verified identity, taken from the bearer token at the API edge; never from a request body. */
export interface Principal {
  subject: string;
  kind: 'user' | 'service';
  groups: string[];
  roles: string[];
}

/**
 * The identity a run acts under, fixed at start: the requesting user, a service account, or a
 * supervised workflow; `onBehalfOf` when a service acts for a user. It travels with every tool
 * call into policy and audit, and none of these subjects may approve the run's calls.
 */
export interface RunIdentity {
  kind: 'user' | 'service' | 'workflow';
  subject: string;
  groups: string[];
  onBehalfOf?: string;
}

export type RunStatus = 'running' | 'awaiting_approval' | 'awaiting_input' | 'completed' | 'rejected' | 'failed' | 'cancelled';

export type AutonomyPhase = 'read-only' | 'gated' | 'autonomous';

/** Agent settings pinned into the run at start, so config changes never alter a running workflow. */
export interface AgentSpec {
  name: string;
  servers: string[];
  maxSteps: number;
  /** Rollout phase: read-only denies writes, gated sends every write to approval, autonomous lets policy decide. */
  phase: AutonomyPhase;
  /** Used when the phase (not a policy) requires approval, and as the default expiry. */
  approvalDefaults: { group: string; expiresMs: number };
  /** Plans come from the embedded planner alone (no route, no provider): planned in a local activity. */
  localPlanning?: boolean;
  /** Per-run model budget (routing.budgets.perRun). */
  budget?: { tokens?: number; costUsd?: number };
  /** The agent is a LangGraph graph from its module (`agents.<name>.graph`), not the built-in loop. */
  graph?: boolean;
  /** Facts policies see as `context.facts`: name → template over the run's input and earlier results (src/core/templates.ts). */
  facts?: Record<string, string>;
  /** The built-in agent's calls after the run failed or was rejected (templates may read `outcome`). */
  onFailure?: Array<{ tool: string; args: Record<string, unknown> }>;
  /** Notification routes of this agent's runs (`notifications:`), pinned at start; absent: nothing is sent. */
  notify?: NotifySpec;
  /** What the run's input is (`inputClassification`, `inputTrust`): its labels at the start (src/core/labels.ts). */
  inputLabels?: { classification: Classification; trust: Trust };
}

export interface RunInput {
  runId: string;
  agent: AgentSpec;
  input: JsonObject;
  /** Who started the run (the verified token). */
  principal: Principal;
  /** Who the run acts for; defaults to the principal. */
  identity?: RunIdentity;
  /** sha256 of the canonical input, computed by the API for the audit trail. */
  inputDigest?: string;
  /** Set when the run continued as new: its record so far. */
  carried?: { steps: StepView[]; approvals: Approval[]; usage: RunUsage; risk: 'low' | 'medium' | 'high'; path?: string[]; inputs?: PendingInput[]; labels?: RunLabels };
}

export interface ToolCall {
  server: string;
  tool: string;
  args: JsonObject;
}

/** What approval a call needs: from the policy that required it, or from the autonomy phase. */
export interface ApprovalRequirement {
  group: string;
  /** Distinct approvers needed. */
  quorum: number;
  expiresAfterMs: number;
  /** After escalateAfterMs, members of this group may decide too. */
  escalateTo?: string;
  escalateAfterMs?: number;
}

export interface Decision {
  outcome: 'allow' | 'deny' | 'require_approval';
  reason: string;
  /** Policies that determined the outcome, and the content hash of the policy set that was consulted. */
  policyIds: string[];
  policyVersion: string;
  approval?: ApprovalRequirement;
  /** True when the tool changes state (not annotated read-only). */
  write: boolean;
  /** The tool retries safely (read-only, or annotated idempotent). */
  idempotent: boolean;
  /** The args that will run: the proposed ones, plus an idempotency key the control layer sets. */
  args: JsonObject;
  /** sha256 of (server, tool, canonical args, policy version): what an approval is bound to. */
  digest: string;
  /** What the call's result brings into the run, as the catalog says (its server's classification and the tool's trust). */
  source?: { classification: Classification; trust: Trust };
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled' | 'superseded';

export interface Vote {
  by: string;
  decision: 'approve' | 'reject';
  at: string;
  comment?: string;
}

export interface Approval {
  approvalId: string;
  runId: string;
  step: number;
  tool: string;
  args: JsonObject;
  /** Binds the approval to exactly this call under this policy version. */
  digest: string;
  policyVersion: string;
  policyIds: string[];
  reason: string;
  requiredGroup: string;
  quorum: number;
  escalateTo?: string;
  escalatesAt?: string;
  escalated: boolean;
  requestedBy: string;
  /** The subject the run acts as, when it is not the requester (a supervised workflow). */
  runsAs?: string;
  onBehalfOf?: string;
  requestedAt: string;
  expiresAt: string;
  status: ApprovalStatus;
  votes: Vote[];
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
  /** Set when an approver's edit replaced this approval (the new approval's id). */
  supersededBy?: string;
  /** Set on an approval created by an edit: who edited, and the approval it replaced. */
  editedBy?: string;
  replaces?: string;
}

export interface ToolResultView {
  isError: boolean;
  /** Structured content when the tool returned it, else the text content. */
  data: Json;
  /** sha256 of the canonical result data, and how long the MCP call took. */
  digest?: string;
  durationMs?: number;
}

/** Which model answered a planning call, why, and what it cost. */
export interface ModelUse {
  /** Configured provider name (`embedded`, or a key of `models`). */
  provider: string;
  /** The provider's model id. */
  model: string;
  reason: string;
  /** The run's data classification the choice was made for. */
  classification: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface RunUsage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface StepView {
  index: number;
  tool: string;
  args: JsonObject;
  decision?: { outcome: Decision['outcome']; reason: string; policyIds: string[]; policyVersion: string; write?: boolean };
  approvalId?: string;
  status: 'proposed' | 'awaiting_approval' | 'running' | 'completed' | 'denied' | 'rejected' | 'failed';
  result?: ToolResultView;
  error?: string;
  /** The model that proposed this step. */
  model?: ModelUse;
  /** The graph node that made the call (agents written as graphs). */
  node?: string;
}

/** A question the agent's graph asked with LangGraph's `interrupt(value)`: the run waits for its answer. */
export interface PendingInput {
  inputId: string;
  /** What `interrupt()` was given: the question, as the graph put it. */
  value: Json;
  /** The node that asked. */
  node?: string;
  askedAt: string;
  /** Who may answer: the requester (and whoever the run acts for), or members of these groups. */
  requester: string;
  onBehalfOf?: string;
  groups: string[];
  status: 'pending' | 'answered' | 'cancelled';
  answeredBy?: string;
  answeredAt?: string;
  answer?: Json;
}

export interface ProvideInputInput {
  inputId: string;
  value: Json;
  /** Filled by the API from the verified token. */
  answerer: Pick<Principal, 'subject' | 'groups'>;
  /** The API's signature over this message (src/core/proof.ts); without a valid one the answer is refused. */
  proof?: string;
}

export interface RunView {
  runId: string;
  agent: string;
  requester: string;
  identity: RunIdentity;
  status: RunStatus;
  steps: StepView[];
  pendingApprovals: Approval[];
  approvals: Approval[];
  result: Json;
  error?: { type: string; message: string };
  waitingFor?: string;
  /** Questions the graph asked (interrupts), answered or not. */
  pendingInputs?: PendingInput[];
  inputs?: PendingInput[];
  /** Graph nodes run so far, in order (the built-in agent's plan/govern/approve/act, or an author's graph's nodes). */
  path?: string[];
  /** Model tokens and cost of the whole run, and the model of the final answer. */
  usage: RunUsage;
  finalModel?: ModelUse;
  /** Who cancelled the run through the API (a cancellation straight from Temporal names nobody). */
  cancelledBy?: string;
  /** Set when the run ended without completing after it changed a business system: what ran, and what did not. */
  reconciliation?: Reconciliation;
  /** What the run has touched: the highest classification it holds, the servers it has seen, untrusted content (src/core/labels.ts). */
  labels?: RunLabels;
}

/** What a person must finish or undo after a run that ended with its work half done. */
export interface Reconciliation {
  /** Why the record exists, in a sentence. */
  reason: string;
  /** Changes that ran (writes that completed): undo them, or finish the rest. */
  done: Array<{ step: number; tool: string; args: JsonObject; resultDigest?: string }>;
  /** Calls that did not complete (failed, denied, rejected, unknown outcome, or never reached). */
  notDone: Array<{ step: number; tool: string; args: JsonObject; status: StepView['status']; error?: string }>;
}

/** What a planner proposes next. */
export type PlanOutput = { kind: 'call'; call: ToolCall; thought?: string } | { kind: 'final'; answer: Json } | { kind: 'fail'; reason: string };

/** A person's request to cancel a run (sent by the API with its proof). */
export interface CancelRunInput {
  /** Filled by the API from the verified token. */
  by: Pick<Principal, 'subject' | 'groups'>;
  reason?: string;
  /** The API's signature over this message (src/core/proof.ts); without a valid one the cancellation is refused. */
  proof?: string;
}

export interface DecideApprovalInput {
  approvalId: string;
  decision: 'approve' | 'reject';
  comment?: string;
  /** Approve with changed args: validated and re-decided by policy before it counts. */
  args?: JsonObject;
  /** Set by the workflow on the vote an edit produced: the args the approver put in place (for the audit trail). */
  editedArgs?: JsonObject;
  /** The digest the approver saw; a mismatch means the approval changed under them. */
  digest?: string;
  /** Filled by the API from the verified token. */
  approver: Pick<Principal, 'subject' | 'groups'>;
  /** The API's signature over this message (src/core/proof.ts); without a valid one the vote is refused. */
  proof?: string;
}
