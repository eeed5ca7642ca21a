// What the event stream says about an audit record: the events a client sees (approval requested / voted /
// decided / escalated / expired, questions asked and answered, run status changes) and, for each, what it is
// about (its audience), which the core's one rule (src/core/access.ts `maySee`) checks per caller.
// Events carry minimal fields: never args or answers (the audit has them redacted; the caller reads the run
// or the approval for details). Who may see an approval or a question depends on records written before it
// (the run's requester, the approval's groups and escalation): kept in small caches, read from the store on a miss.
import type { ApprovalParties, Audience, InputParties } from '../core/access.js';
import type { Json, RunStatus } from '../core/types.js';
import type { AuditRecord, AuditStore } from '../audit/types.js';

/** The audit record types the stream is made of. */
export const STREAMED_TYPES = [
  'run.started',
  'run.completed',
  'run.rejected',
  'run.failed',
  'run.cancelled',
  'approval.requested',
  'approval.escalated',
  'approval.decided',
  'approval.expired',
  'input.requested',
  'input.answered',
] as const;

/** The event types a client receives (`event:` of the stream). */
export const EVENT_TYPES = ['run.status', 'approval.requested', 'approval.voted', 'approval.decided', 'approval.escalated', 'approval.expired', 'input.requested', 'input.answered'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One event as sent (`data:`): what happened, to which run, and when; nothing a reader of the run could not see. */
export interface StreamEvent {
  type: EventType;
  runId: string;
  at: string;
  agent?: string;
  /** The run's status (run.status), or the approval's (approval.*). */
  status?: string;
  approvalId?: string;
  tool?: string;
  requiredGroup?: string;
  escalateTo?: string;
  quorum?: number;
  expiresAt?: string;
  reason?: string;
  decision?: string;
  by?: string;
  inputId?: string;
  /** The question a graph asked (input.requested): whoever is shown it may answer it, or read the run. */
  question?: Json;
  node?: string;
  groups?: string[];
}

/** An event with its place in the audit trail (the stream's `id:`) and what it is about. */
export interface FeedItem {
  seq: number;
  event: StreamEvent;
  audience: Audience;
}

type RunParties = { requester: string; runsAs?: string; onBehalfOf?: string };

/** Entries kept per cache: the least recently added go first. */
const CACHE_SIZE = 5_000;

class Lru<V> extends Map<string, V> {
  override set(k: string, v: V): this {
    this.delete(k);
    super.set(k, v);
    if (this.size > CACHE_SIZE) this.delete(this.keys().next().value!);
    return this;
  }
}

const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const RUN_END: Record<string, RunStatus> = { 'run.started': 'running', 'run.completed': 'completed', 'run.rejected': 'rejected', 'run.failed': 'failed', 'run.cancelled': 'cancelled' };

export class Feed {
  private readonly runs = new Lru<RunParties>();
  private readonly approvals = new Lru<ApprovalParties>();
  private readonly inputs = new Lru<InputParties>();

  constructor(private readonly audit: AuditStore) {}

  /** The events of one record (none for a record the stream does not show). */
  async itemsOf(r: AuditRecord): Promise<FeedItem[]> {
    if (!r.runId) return [];
    const base = { runId: r.runId, at: r.at, ...(r.agent ? { agent: r.agent } : {}) };
    const item = (event: StreamEvent, audience: Audience): FeedItem => ({ seq: r.seq, event, audience });
    const d = r.data;
    const status = RUN_END[r.type];
    if (status) {
      if (r.type === 'run.started') this.runs.set(r.runId, partiesOfStart(r));
      return [item({ ...base, type: 'run.status', status }, { kind: 'run', run: await this.run(r) })];
    }
    if (r.type.startsWith('approval.')) {
      const approvalId = str(d.approvalId);
      if (!approvalId) return [];
      const a = await this.approval(r, approvalId);
      const fields = { ...base, approvalId, tool: r.server ? `${r.server}.${r.tool}` : r.tool, requiredGroup: a.requiredGroup, quorum: Number(d.quorum ?? 1) };
      // As the approval is at this record (the cached one moves on with later records).
      const about: Audience = { kind: 'approval', approval: { ...a, votes: [...a.votes] } };
      if (r.type === 'approval.requested') {
        const expiresAt = str(d.expiresAt);
        const reason = str(d.reason);
        const event: StreamEvent = {
          ...fields,
          type: 'approval.requested',
          status: 'pending',
          ...(a.escalateTo ? { escalateTo: a.escalateTo } : {}),
          ...(expiresAt ? { expiresAt } : {}),
          ...(reason ? { reason } : {}),
        };
        return [item(event, about), item({ ...base, type: 'run.status', status: 'awaiting_approval', approvalId }, { kind: 'run', run: await this.run(r) })];
      }
      if (r.type === 'approval.escalated') return [item({ ...fields, type: 'approval.escalated', status: 'pending', ...(a.escalateTo ? { escalateTo: a.escalateTo } : {}) }, about)];
      if (r.type === 'approval.expired') return [item({ ...fields, type: 'approval.expired', status: 'expired' }, about)];
      const settled = str(d.settled) ?? 'pending';
      const by = str(d.approver) ?? r.principal;
      const decision = str(d.decision);
      return [item({ ...fields, type: settled === 'pending' ? 'approval.voted' : 'approval.decided', status: settled, ...(decision ? { decision } : {}), ...(by ? { by } : {}) }, about)];
    }
    const inputId = str(d.inputId);
    if (!inputId) return [];
    const i = await this.input(r, inputId);
    const node = str(d.node);
    if (r.type === 'input.requested')
      return [
        item({ ...base, type: 'input.requested', inputId, question: d.value ?? null, groups: i.groups, ...(node ? { node } : {}) }, { kind: 'input', input: i }),
        item({ ...base, type: 'run.status', status: 'awaiting_input', inputId }, { kind: 'run', run: await this.run(r) }),
      ];
    return [item({ ...base, type: 'input.answered', inputId, ...(r.principal ? { by: r.principal } : {}) }, { kind: 'input', input: i })];
  }

  /** Who requested the run, as its `run.started` record says (cached). */
  private async run(r: AuditRecord): Promise<RunParties> {
    const runId = r.runId!;
    let p = this.runs.get(runId);
    if (!p) {
      const [started] = await this.audit.query({ runId, type: 'run.started', limit: 1 });
      // A run whose start is not on record (it cannot happen in one store): the record's own principal stands in.
      p = started ? partiesOfStart(started) : { requester: r.principal ?? '', ...(r.onBehalfOf ? { onBehalfOf: r.onBehalfOf } : {}) };
      this.runs.set(runId, p);
    }
    return p;
  }

  /** The approval's groups, escalation and votes up to this record: folded from the run's approval records. */
  private async approval(r: AuditRecord, approvalId: string): Promise<ApprovalParties> {
    let a = this.approvals.get(approvalId);
    if (!a) {
      const run = await this.run(r);
      a = { requiredGroup: str(r.data.requiredGroup) ?? '', escalated: false, requestedBy: run.requester, votes: [], ...conflicts(run) };
      const earlier = await this.audit.query({ runId: r.runId!, types: ['approval.requested', 'approval.escalated', 'approval.decided'], limit: 10_000 });
      for (const e of earlier) if (e.seq < r.seq && e.data.approvalId === approvalId) fold(a, e);
      this.approvals.set(approvalId, a);
    }
    fold(a, r);
    return a;
  }

  /** The question's groups, from its `input.requested` record. */
  private async input(r: AuditRecord, inputId: string): Promise<InputParties> {
    let i = this.inputs.get(inputId);
    if (!i) {
      const run = await this.run(r);
      const asked = r.type === 'input.requested' ? r : (await this.audit.query({ runId: r.runId!, type: 'input.requested', limit: 10_000 })).find((e) => e.data.inputId === inputId);
      const groups = Array.isArray(asked?.data.groups) ? asked.data.groups.filter((g): g is string => typeof g === 'string') : [];
      i = { requester: run.requester, ...(run.onBehalfOf ? { onBehalfOf: run.onBehalfOf } : {}), groups };
      this.inputs.set(inputId, i);
    }
    return i;
  }
}

function partiesOfStart(r: AuditRecord): RunParties {
  const requester = str(r.data.requester) ?? r.principal ?? '';
  return { requester, ...(r.principal && r.principal !== requester ? { runsAs: r.principal } : {}), ...(r.onBehalfOf ? { onBehalfOf: r.onBehalfOf } : {}) };
}

const conflicts = (run: RunParties) => ({ ...(run.runsAs ? { runsAs: run.runsAs } : {}), ...(run.onBehalfOf ? { onBehalfOf: run.onBehalfOf } : {}) });

/** What an approval record changes about who may see the approval. */
function fold(a: ApprovalParties, e: AuditRecord): void {
  if (e.type === 'approval.requested') {
    a.requiredGroup = str(e.data.requiredGroup) ?? a.requiredGroup;
    const to = str(e.data.escalateTo);
    if (to) a.escalateTo = to;
  } else if (e.type === 'approval.escalated') {
    a.escalated = true;
    const to = str(e.data.escalateTo);
    if (to) a.escalateTo = to;
  } else if (e.type === 'approval.decided') {
    const by = str(e.data.approver) ?? e.principal;
    if (by && !a.votes.some((v) => v.by === by)) a.votes.push({ by });
  }
}
