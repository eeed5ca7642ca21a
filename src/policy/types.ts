// What the policy engine is asked, what it answers, and what it tells about the policies it loaded.
import type { LabelsContext } from '../core/labels.js';
import type { AutonomyPhase } from '../core/types.js';

export type Phase = AutonomyPhase;

export interface PolicyRequest {
  /** Who the run acts for. */
  principal: { kind: 'user' | 'service'; id: string; groups: string[]; onBehalfOf?: string };
  /** Agent name, e.g. 'refund-assistant'. */
  agent: string;
  phase: Phase;
  /** MCP server name, e.g. 'billing'. */
  server: string;
  /** Tool name on that server, e.g. 'issue_refund'. */
  tool: string;
  toolInfo: {
    readOnly: boolean;
    destructive: boolean;
    idempotent: boolean;
    classification: string;
    /** The classification's rank (public 0 … restricted 3), Tool attribute `level`. */
    level?: number;
    /** The catalog's trust of the tool's results, Tool attribute `trust` (`trusted` | `untrusted`). */
    trust?: string;
  };
  /** JSON args, already validated against the tool's input schema. */
  args: Record<string, unknown>;
  /** When an approver's edit is decided: the args as first proposed (`context.edit`, where the schema declares it). */
  edit?: Record<string, unknown>;
  /** What the run learned earlier, as its agent declares (`context.facts`, where the schema declares it); absent: none. */
  facts?: Record<string, unknown>;
  /** What the run has touched so far (`context.labels`, where the schema declares it): src/core/labels.ts. */
  labels?: LabelsContext;
  runId: string;
  /** ISO timestamp. */
  now: string;
}

/** A policy's @approval requirement; the agent's config may shorten its expiry (core/approvals.ts). */
export interface ApprovalRequirement {
  /** Approver group. */
  group: string;
  /** Distinct approvers needed, >= 1. */
  quorum: number;
  /** Overall deadline from the request. */
  expiresAfterMs?: number;
  /** Group that can also decide after escalateAfterMs. */
  escalateTo?: string;
  escalateAfterMs?: number;
}

export interface PolicyDecision {
  outcome: 'allow' | 'deny' | 'require_approval';
  /** Human readable; a deny names the policy id(s) or says 'no policy permits ...'. */
  reason: string;
  /** Determining policy ids (the @id annotation, else file:index), sorted. */
  policyIds: string[];
  /** Content hash of the policy set and schema the decision was made with. */
  policyVersion: string;
  /** Present iff outcome is require_approval. */
  approval?: ApprovalRequirement;
  /** Evaluation errors; when present the outcome is always deny (fail closed). */
  errors?: string[];
}

/** What one loaded policy is and can apply to, computed once at load (readiness and tools read these, never the files). */
export interface PolicyFacts {
  /** Its @id annotation, else `<file>:<index>` (0-based within the file). */
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** Path of the file it is in. */
  readonly file: string;
  /** 1-based line of its @id annotation, else of its first code. */
  readonly line: number;
  readonly description?: string;
  /** Shown in the reason of a deny it determines. */
  readonly reason?: string;
  /**
   * Present on a permit with @approval: what a call it determines needs. On a forbid it makes the forbid a hold:
   * a call it stops may still run if the permits allow it and this approval is given (engine.ts, "Holds").
   */
  readonly approval?: Readonly<ApprovalRequirement>;
  /** The `context.labels` fields its conditions read (`untrusted`, `level`, `sensitive`, …), sorted; empty when none. */
  readonly labels: readonly string[];
  /** Tool actions (`server.tool`) it can apply to, sorted: its action scope resolved against the schema (action groups included) and narrowed by Cedar's type checker. */
  readonly actions: readonly string[];
  /** True when its action scope is unconstrained (`action` alone), so it reaches every tool its conditions type-check for. */
  readonly anyAction: boolean;
  /** Agents it is limited to by `when` conditions on `context.agent` (sorted); undefined when any agent may meet it. */
  readonly agents?: readonly string[];
}

/** A tool the schema declares (an action with `appliesTo`): Airlock may ask about it. */
export interface ToolActionFacts {
  /** Principal kinds the schema lets call it. */
  principals: readonly ('user' | 'service')[];
}
