// Approvals in any status but pending: what was decided, by whom (votes) and when. Visibility finds the runs that
// ever needed an approval (risk high); each run's view holds its approvals. Pages resume at the run and approval
// they stopped at, and a request reads a bounded number of runs.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { SA } from '../../workflows/definitions.js';
import { maySeeApproval } from '../core/access.js';
import { ErrorCode } from '../core/errors.js';
import type { Approval, ApprovalStatus, Principal, RunView } from '../core/types.js';
import { ApiError } from './errors.js';
import { decodeCursor, encodeCursor, listPage, literal, RUNS, type PagePosition } from './visibility.js';
import { listedRunView } from './workflows.js';

/** Runs that met a decision needing approval (or a denial): the only runs that can hold approvals. */
export const RUNS_WITH_APPROVALS = `${RUNS} AND ${SA.risk.name} = ${literal('high')}`;
/** Runs per visibility page, run views read at once, and runs read per request at most. */
const RUN_PAGE = 50;
const CONCURRENCY = 8;
const MAX_RUNS_READ = 200;

export interface ApprovalHistoryRequest {
  status: Exclude<ApprovalStatus, 'pending'>;
  limit: number;
  cursor?: string;
}

/** Up to `limit` approvals in `status` the caller may see, and `next` when more may follow. */
export async function listDecidedApprovals(client: Client, p: Principal, seeAll: boolean, q: ApprovalHistoryRequest): Promise<{ approvals: Approval[]; next?: string }> {
  // The cursor is bound to what it lists and for whom: positions count every approval of a run, listed or not.
  const key = `${RUNS_WITH_APPROVALS}\n${q.status}\n${seeAll ? '*' : p.subject}`;
  let at = decodeCursor(key, q.cursor);
  const approvals: Approval[] = [];
  let read = 0;
  for (;;) {
    const page = await listPage(client, RUNS_WITH_APPROVALS, RUN_PAGE, at.token);
    // The position after run `index` of this page: the next run, or the next page's first.
    const after = (index: number): PagePosition | undefined =>
      index + 1 < page.runs.length ? { token: at.token, run: index + 1, item: 0 } : page.next ? { token: page.next, run: 0, item: 0 } : undefined;
    const done = (next: PagePosition | undefined) => ({ approvals, ...(next ? { next: encodeCursor(key, next) } : {}) });
    for (let start = at.run; start < page.runs.length; start += CONCURRENCY) {
      const chunk = page.runs.slice(start, start + CONCURRENCY);
      const views = await Promise.all(chunk.map((info) => viewOf(client, info)));
      for (const [k, view] of views.entries()) {
        const index = start + k;
        const list = view?.approvals ?? [];
        for (let i = index === at.run ? at.item : 0; i < list.length; i++) {
          const a = list[i]!;
          // The core's rule (src/core/access.ts); `seeAll` is operators' and admins' (it also keys the cursor).
          if (a.status === q.status && (seeAll || maySeeApproval(a, p))) approvals.push(a);
          if (approvals.length >= q.limit) return done(i + 1 < list.length ? { token: at.token, run: index, item: i + 1 } : after(index));
        }
        if (++read >= MAX_RUNS_READ) return done(after(index));
      }
    }
    if (!page.next) return done(undefined);
    at = { token: page.next, run: 0, item: 0 };
  }
}

/** The run's view, or none when Temporal no longer keeps the run. */
async function viewOf(client: Client, info: WorkflowExecutionInfo): Promise<RunView | undefined> {
  try {
    return await listedRunView(client, info.workflowId, info.status.name === 'RUNNING');
  } catch (err) {
    if (err instanceof ApiError && err.code === ErrorCode.NotFound) return undefined;
    throw err;
  }
}
