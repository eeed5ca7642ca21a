// Audit writes: the run's own events (queued by the workflow, carried by the next activity) and the
// events activities record themselves. Every event id is fixed before the first attempt, so a retried
// activity stores each event exactly once.
import { runsNeedingReconciliation } from '../src/observability/metrics.js';
import { Context } from '@temporalio/activity';
import { ErrorCode } from '../src/core/errors.js';
import type { Redactor } from '../src/audit/redact.js';
import type { AuditEventInput, AuditStore } from '../src/audit/types.js';
import type { Json } from '../src/core/types.js';
import { failure } from '../workflows/failure.js';

export interface AuditDeps {
  audit: AuditStore;
  redactor: Redactor;
}

/** Fields holding a tool's args (field rules of that tool apply); everything else gets the default masking. */
const ARG_FIELDS = new Set(['args', 'editedArgs']);
/** Larger values are recorded by size only (oversized args are denied anyway; the call digest still identifies them). */
const MAX_FIELD_BYTES = 64 * 1024;

/** A list of calls (a reconciliation's `done` and `notDone`): entries naming their own `server.tool` and `args`. */
type CallList = Array<{ tool: string; args: Json; [k: string]: Json }>;
const isCallList = (v: Json): v is CallList => Array.isArray(v) && v.length > 0 && v.every((x) => !!x && typeof x === 'object' && !Array.isArray(x) && typeof x.tool === 'string' && 'args' in x);

export function createAuditWriter({ audit, redactor }: AuditDeps) {
  /** Each call's args get the field rules of its own tool, as they would on that call's own records. */
  const redactCalls = (calls: CallList): Json =>
    calls.map(({ args, ...rest }) => {
      const [server, ...tool] = rest.tool.split('.');
      return { ...(redactor.redact(rest) as Record<string, Json>), args: redactor.redact(args, server, tool.join('.')) };
    });
  const redactEvent = (e: AuditEventInput): AuditEventInput => {
    const data: AuditEventInput['data'] = {};
    for (const [k, v] of Object.entries(e.data)) {
      const masked = ARG_FIELDS.has(k) ? redactor.redact(v, e.server, e.tool) : isCallList(v) ? redactCalls(v) : redactor.redact(v);
      const bytes = Buffer.byteLength(JSON.stringify(masked) ?? '');
      data[k] = bytes > MAX_FIELD_BYTES ? { truncated: true, bytes } : masked;
    }
    return { ...e, data };
  };

  /** Writes events, or throws a retryable AuditUnavailable: the caller's work does not go ahead unrecorded. */
  async function write(events: AuditEventInput[]): Promise<void> {
    if (!events.length) return;
    try {
      await audit.append(events.map(redactEvent));
    } catch (err) {
      throw failure(ErrorCode.AuditUnavailable, `audit store (${audit.kind}) refused the write: ${(err as Error).message}`);
    }
    for (const e of events) if (e.type === 'run.reconciliation') runsNeedingReconciliation.inc({ agent: e.agent ?? 'unknown' });
  }

  /** Events an activity records about itself, with ids from its workflow run and activity id (stable across retries). */
  function own(runId: string, events: Array<Omit<AuditEventInput, 'eventId' | 'chain' | 'runId'> & { key: string }>): AuditEventInput[] {
    const info = Context.current().info;
    const wfRun = info.workflowExecution?.runId;
    if (!wfRun) throw failure(ErrorCode.InternalError, 'audited activities run inside a workflow');
    return events.map(({ key, ...e }) => ({
      ...e,
      // Local and scheduled activities number their ids separately.
      eventId: `${wfRun}/${info.isLocal ? 'l' : 'a'}${info.activityId}/${key}`,
      chain: `run:${runId}`,
      runId,
    }));
  }

  return { write, own };
}
export type AuditWriter = ReturnType<typeof createAuditWriter>;

export function createAuditActivities({ writer }: { writer: AuditWriter }) {
  /** Writes the run's queued events when no other activity is about to carry them. */
  async function audit({ events }: { events: AuditEventInput[] }): Promise<void> {
    await writer.write(events);
  }
  return { audit };
}
