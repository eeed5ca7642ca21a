// Approvals: approvers list what they may decide and decide it; the workflow's update validator has the last word.
import { Router } from 'express';
import { decideApprovalUpdate, PENDING_MEMO, SA } from '../../../workflows/definitions.js';
import { isExpired, mayDecide, runIdOfApproval } from '../../core/approvals.js';
import { ErrorCode } from '../../core/errors.js';
import type { Approval, JsonObject } from '../../core/types.js';
import { hasRole } from '../../identity/users.js';
import { observeApprovalDecision } from '../../observability/metrics.js';
import { listDecidedApprovals } from '../approvalHistory.js';
import { principalOf, requireRole } from '../auth.js';
import { logOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import type { ApprovalBody } from '../openapi/responses.js';
import { ApprovalIdParamsSchema, ApprovalsQuerySchema, DecisionBodySchema } from '../schemas.js';
import { literal } from '../visibility.js';
import { signed, updateRun } from '../workflows.js';

export function approvalRoutes({ client, config }: Pick<ApiDeps, 'client' | 'config'>): Router {
  const r = Router();

  // Pending: approvers see what they may decide now (the core's rule); operators and admins see every pending approval.
  // Any other status: decided approvals from the runs' views, in pages (src/api/approvalHistory.ts).
  r.get('/approvals', async (req, res) => {
    const p = principalOf(req);
    const q = ApprovalsQuerySchema.parse(req.query);
    const seeAll = hasRole(p, 'operator', 'admin');
    if (!seeAll && !hasRole(p, 'approver')) throw forbidden('listing approvals needs the approver or operator role');
    if (q.status !== 'pending') return void res.json(await listDecidedApprovals(client, p, seeAll, { status: q.status, limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) }));
    if (q.cursor !== undefined) throw new ApiError(ErrorCode.InvalidRequest, 'cursor: pending approvals come in one list (raise limit); cursors page decided statuses');
    if (!seeAll && p.groups.length === 0) return void res.json({ approvals: [] });
    // Visibility narrows the search to runs waiting on one of the caller's groups; mayDecide has the last word.
    const groups = p.groups.map(literal).join(', ');
    const query = `${SA.status.name} = 'awaiting_approval'${seeAll ? '' : ` AND ${SA.pendingGroups.name} IN (${groups})`}`;
    const approvals: Approval[] = [];
    for await (const wf of client.workflow.list({ query, pageSize: Math.min(q.limit, 1000) })) {
      const pending = (wf.memo?.[PENDING_MEMO] ?? []) as Approval[];
      for (const a of pending) {
        if (seeAll || mayDecide(a, p, Date.now())) approvals.push(a);
      }
      if (approvals.length >= q.limit) break;
    }
    res.json({ approvals: approvals.slice(0, q.limit) });
  });

  r.post('/approvals/:approvalId/decision', async (req, res) => {
    const p = principalOf(req);
    const { approvalId } = ApprovalIdParamsSchema.parse(req.params);
    const body = DecisionBodySchema.parse(req.body);
    requireRole(req, ['approver'], 'deciding approvals needs the approver role');
    const runId = runIdOfApproval(approvalId);
    if (!runId) throw notFound(`approval ${approvalId}`);
    const message = await signed(config, 'decision', runId, {
      approvalId,
      decision: body.decision,
      ...(body.comment !== undefined ? { comment: body.comment } : {}),
      ...(body.args !== undefined ? { args: body.args as JsonObject } : {}),
      ...(body.digest !== undefined ? { digest: body.digest } : {}),
      // The approver is the token's subject, never a field of the body.
      approver: { subject: p.subject, groups: p.groups },
    });
    const approval = await updateRun(
      client,
      runId,
      () => client.workflow.getHandle(runId).executeUpdate(decideApprovalUpdate, { args: [message] }),
      // The run has ended: say what became of this approval.
      (view) => {
        const a = view.approvals.find((x) => x.approvalId === approvalId);
        if (!a) return notFound(`approval ${approvalId}`);
        if (isExpired(a, Date.now())) return new ApiError(ErrorCode.Expired, `approval ${approvalId} expired at ${a.expiresAt}`);
        return new ApiError(ErrorCode.AlreadyDecided, `approval ${approvalId} is ${a.status}; the run is ${view.status}`);
      },
    );
    logOf(req).info({ approvalId, decision: body.decision }, 'approval decided');
    observeApprovalDecision(approval);
    res.json({ approval: approval satisfies ApprovalBody });
  });

  return r;
}
