// The audit trail's record shapes, shared by the SQLite and PostgreSQL stores.
import type { Json } from '../core/types.js';

export const AUDIT_EVENT_TYPES = [
  'run.started',
  'model.routed',
  'tool.proposed',
  'tool.validated',
  'policy.decided',
  'approval.requested',
  'approval.escalated',
  'approval.decided',
  'approval.expired',
  'tool.executed',
  'input.requested',
  'input.answered',
  'registry.pinned',
  'registry.drift',
  'registry.quarantined',
  'registry.retired',
  'registry.approved',
  'run.completed',
  'run.rejected',
  'run.failed',
  'run.cancelled',
  'run.reconciliation',
  'run.labels',
  'identity.revoked',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** One event as written. `eventId` makes writes idempotent: the same id is stored once, whatever the retries. */
export interface AuditEventInput {
  eventId: string;
  /** Hash chain the record joins: `run:<runId>` for a run, `registry` for registry changes. */
  chain: string;
  type: AuditEventType;
  /** ISO-8601 time of the event. */
  at: string;
  runId?: string;
  /** Who acted: the run's identity subject, the approver, or the registry admin. */
  principal?: string;
  onBehalfOf?: string;
  agent?: string;
  server?: string;
  tool?: string;
  /** allow | deny | require_approval | approve | reject | success | error | failed | completed … */
  outcome?: string;
  /** Event details, already redacted. */
  data: { [k: string]: Json };
}

export interface AuditRecord extends AuditEventInput {
  /** Global order of insertion (pagination cursor). */
  seq: number;
  /** Position in its chain, from 1. */
  chainSeq: number;
  prevHash: string;
  hash: string;
  /**
   * ISO-8601 wall-clock time the store wrote the record (`at` is when the event happened, in the run's time).
   * Absent on records written before the store kept it. Covered by `hash` when present.
   */
  recordedAt?: string;
}

export interface AuditQuery {
  runId?: string;
  principal?: string;
  /** `server.tool`, or a bare tool name. */
  tool?: string;
  outcome?: string;
  type?: string;
  /** Any of these types. */
  types?: readonly string[];
  from?: string;
  to?: string;
  /** Records with seq greater than this. */
  after?: number;
  limit: number;
}

/** A signed-off set of chain heads: verify proves the chains still end in (or pass through) these. */
export interface AuditAnchor {
  id: number;
  at: string;
  /** Hash of the previous anchor (the anchors form their own chain). */
  prev: string;
  heads: Record<string, { seq: number; hash: string }>;
  hash: string;
}

export interface AuditStore {
  readonly kind: 'sqlite' | 'postgres';
  /** The file, or the database URL without credentials. */
  readonly location: string;
  /** Appends events atomically, in order; an event whose id is already stored is returned as stored. */
  append(events: AuditEventInput[]): Promise<AuditRecord[]>;
  query(q: AuditQuery): Promise<AuditRecord[]>;
  /** Every record, ordered by chain then position (for verification). */
  allRecords(): Promise<AuditRecord[]>;
  heads(): Promise<Record<string, { seq: number; hash: string }>>;
  /** The highest `seq` written so far (0 for an empty store): where a reader that tails the store starts. */
  lastSeq(): Promise<number>;
  /** Anchors the heads that changed since the last anchor; null when nothing changed. */
  anchor(): Promise<AuditAnchor | null>;
  anchors(): Promise<AuditAnchor[]>;
  /** Model tokens and cost an agent used since a time (its `model.routed` records): the per-agent budget. */
  usage(agent: string, since: string): Promise<{ tokens: number; costUsd: number }>;
  close(): Promise<void>;
}

export class AuditError extends Error {
  override name = 'AuditError';
}
