// Lists of runs from Temporal visibility: queries built from filters with every value escaped, Temporal's own
// page token behind an opaque cursor bound to the query it came from, and each run read from its search attributes.
import { isGrpcServiceError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import { createHash } from 'node:crypto';
import { agentRunWorkflow } from '../../workflows/agentRun.js';
import { SA } from '../../workflows/definitions.js';
import { ErrorCode } from '../core/errors.js';
import { OPEN_RUN_STATUSES, RUN_STATUSES } from '../core/run.js';
import type { Principal, RunStatus } from '../core/types.js';
import { mayReadAnyRun } from '../core/access.js';
import { ApiError, forbidden } from './errors.js';
import type { RunsQuery, RunSummary } from './listSchemas.js';

/** gRPC status INVALID_ARGUMENT. */
const INVALID_ARGUMENT = 3;

/** A string literal of the visibility query language: backslashes and quotes escaped, so a value never ends the literal. */
export const literal = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Every run (one per workflow id: the executions a run continued from are left out). */
export const RUNS = `WorkflowType = ${literal(agentRunWorkflow.name)} AND ExecutionStatus != 'ContinuedAsNew'`;

/** Like reading a single run (the core's `mayReadRun`): operators, admins and approvers list any run, everyone else only their own. */
export const mayListAll = (p: Principal): boolean => mayReadAnyRun(p);

/** The visibility query for a run list's filters, narrowed to the caller's own runs unless they may read any. */
export function runsQuery(q: Omit<RunsQuery, 'limit' | 'cursor'>, p: Principal): string {
  if (!mayListAll(p) && q.requester !== undefined && q.requester !== p.subject) throw forbidden('you may list only your own runs (requester is always you)');
  const requester = mayListAll(p) ? q.requester : p.subject;
  const parts = [RUNS];
  if (q.agent !== undefined) parts.push(`${SA.agent.name} = ${literal(q.agent)}`);
  if (requester !== undefined) parts.push(`${SA.requester.name} = ${literal(requester)}`);
  if (q.status !== undefined) parts.push(statusCondition(q.status));
  if (q.from !== undefined) parts.push(`StartTime >= ${literal(q.from)}`);
  if (q.to !== undefined) parts.push(`StartTime <= ${literal(q.to)}`);
  return parts.join(' AND ');
}

/** Open statuses only while the workflow runs; a run closed without saying how (terminated, timed out) counts as failed. */
function statusCondition(s: RunStatus): string {
  const is = `${SA.status.name} = ${literal(s)}`;
  if (OPEN_RUN_STATUSES.includes(s)) return `${is} AND ExecutionStatus = 'Running'`;
  if (s !== 'failed') return is;
  const open = OPEN_RUN_STATUSES.map(literal).join(', ');
  return `(${is} OR (ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut') AND ${SA.status.name} IN (${open})))`;
}

/** A run's status: its search attribute, unless the workflow closed while that still said the run was open. */
export function statusOf(info: Pick<WorkflowExecutionInfo, 'status' | 'typedSearchAttributes'>): RunStatus {
  const sa = info.typedSearchAttributes.get(SA.status) as RunStatus | undefined;
  const known = sa && RUN_STATUSES.includes(sa) ? sa : undefined;
  if (info.status.name === 'RUNNING') return known ?? 'running';
  if (known && !OPEN_RUN_STATUSES.includes(known)) return known;
  if (info.status.name === 'CANCELLED') return 'cancelled';
  return info.status.name === 'COMPLETED' ? 'completed' : 'failed';
}

export function runSummary(info: WorkflowExecutionInfo): RunSummary {
  const sa = info.typedSearchAttributes;
  return {
    runId: info.workflowId,
    agent: sa.get(SA.agent) ?? '',
    requester: sa.get(SA.requester) ?? '',
    status: statusOf(info),
    startedAt: info.startTime.toISOString(),
    ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
    pendingGroups: sa.get(SA.pendingGroups) ?? [],
    risk: sa.get(SA.risk) ?? 'low',
  };
}

/** Where a list resumes: Temporal's page token, and for lists of items inside runs, the run and item reached in that page. */
export interface PagePosition {
  token: Buffer;
  run: number;
  item: number;
}

const queryTag = (query: string) => createHash('sha256').update(query).digest('base64url').slice(0, 16);

export function encodeCursor(query: string, at: PagePosition): string {
  return Buffer.from(JSON.stringify({ q: queryTag(query), t: at.token.toString('base64'), r: at.run, i: at.item })).toString('base64url');
}

/** The position a cursor names; 400 for anything but a cursor this API returned for the same query. */
export function decodeCursor(query: string, cursor: string | undefined): PagePosition {
  if (cursor === undefined) return { token: Buffer.alloc(0), run: 0, item: 0 };
  const bad = () => new ApiError(ErrorCode.InvalidRequest, 'cursor: not a cursor this API returned for these filters (pass `next` with the same filters)');
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const { q, t, r, i } = (c ?? {}) as Record<string, unknown>;
  if (q !== queryTag(query) || typeof t !== 'string' || !Number.isSafeInteger(r) || !Number.isSafeInteger(i) || (r as number) < 0 || (i as number) < 0) throw bad();
  return { token: Buffer.from(t, 'base64'), run: r as number, item: i as number };
}

/** One page of runs matching `query`, in Temporal's order, and the token of the next page (none after the last). */
export async function listPage(client: Client, query: string, pageSize: number, token: Buffer): Promise<{ runs: WorkflowExecutionInfo[]; next?: Buffer }> {
  let response;
  try {
    response = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize, nextPageToken: token });
  } catch (err) {
    // A page token Temporal refuses (say, from another server) is the caller's cursor at fault.
    if (token.length > 0 && isGrpcServiceError(err) && err.code === INVALID_ARGUMENT) throw new ApiError(ErrorCode.InvalidRequest, 'cursor: no longer valid; start again without it');
    throw err;
  }
  const runs = await Promise.all(response.executions.map((raw) => executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, client.options.namespace)));
  const next = response.nextPageToken && response.nextPageToken.length > 0 ? Buffer.from(response.nextPageToken) : undefined;
  return { runs, ...(next ? { next } : {}) };
}

/** A page of runs: up to `limit` summaries, and `next` when more may follow. */
export async function listRuns(client: Client, q: RunsQuery, p: Principal): Promise<{ runs: RunSummary[]; next?: string }> {
  const query = runsQuery(q, p);
  const at = decodeCursor(query, q.cursor);
  const page = await listPage(client, query, q.limit, at.token);
  return { runs: page.runs.map(runSummary), ...(page.next ? { next: encodeCursor(query, { token: page.next, run: 0, item: 0 }) } : {}) };
}
