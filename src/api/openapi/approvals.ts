// Approvals and token revocations (src/api/routes/approvals.ts, revocations.ts).
import { ApprovalIdParamsSchema, ApprovalsQuerySchema, DecisionBodySchema, RevocationBodySchema } from '../schemas.js';
import { jsonBody, jsonResponse, type Operation } from './operation.js';
import { ApprovalSchema, RevocationSchema } from './responses.js';
import { z } from './zod.js';

export const approvalOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/approvals',
    operationId: 'listApprovals',
    tags: ['Approvals'],
    roles: ['approver', 'operator', 'admin'],
    summary: 'Approvals by status: pending ones the caller may decide, or decided ones with their votes',
    description:
      "pending (the default): what the caller may decide now, in one list. Any other status: approvals of the runs visibility finds, each with `votes`, `decidedBy` and `decidedAt`, in pages (`next`; a page may hold fewer than `limit`). Approvers see their groups' approvals, the escalation group's once escalated, and those they voted on; operators and admins see all.",
    request: { query: ApprovalsQuerySchema },
    responses: { 200: jsonResponse('Approvals', z.object({ approvals: z.array(ApprovalSchema), next: z.string().optional() })) },
    errors: { 400: 'Bad status, limit or cursor' },
  },
  {
    method: 'post',
    path: '/v1/approvals/{approvalId}/decision',
    operationId: 'decideApproval',
    tags: ['Approvals'],
    roles: ['approver'],
    summary: 'Approve or reject',
    description:
      'An approver in the required group (or the escalation group once escalated); never the requester nor whoever the run acts for. The approver is the token’s subject, never a body field. Approving with `args` replaces the approval (re-decided by policy).',
    request: { params: ApprovalIdParamsSchema, body: jsonBody(DecisionBodySchema) },
    responses: { 200: jsonResponse('Decision recorded', z.object({ approval: ApprovalSchema })) },
    errors: {
      403: 'Caller may not decide this approval',
      404: 'Unknown approval',
      409: 'Already decided (`already_decided`), or the approval changed since `digest` (`digest_mismatch`)',
      410: 'Expired',
      422: 'Edited arguments refused (`invalid_edit`), or the decision refused (`decision_refused`)',
    },
  },
  {
    method: 'post',
    path: '/v1/revocations',
    operationId: 'revokeTokens',
    tags: ['Identity'],
    roles: ['admin'],
    summary: 'Revoke a token by jti, or the tokens of a subject issued until now',
    description: 'Every API replica refuses the token(s) with 401 from then on; the revocation is on the audit trail.',
    request: { body: jsonBody(RevocationBodySchema) },
    responses: { 201: jsonResponse('Revoked', z.object({ revocation: RevocationSchema })) },
    errors: { 400: 'Malformed body (exactly one of jti and subject, and a reason)', 503: 'Revoked, but the audit store refused the record (`audit_unavailable`)' },
  },
  {
    method: 'get',
    path: '/v1/revocations',
    operationId: 'listRevocations',
    tags: ['Identity'],
    roles: ['admin'],
    summary: 'The revocations, newest first',
    responses: { 200: jsonResponse('Revocations', z.object({ revocations: z.array(RevocationSchema) })) },
  },
];
