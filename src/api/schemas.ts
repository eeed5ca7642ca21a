import { z } from 'zod';

const Id = z.string().min(1).max(200);

export const StartRunBodySchema = z.strictObject({
  agent: z.string().min(1).max(100),
  input: z.record(z.string(), z.json()),
});
export type StartRunBody = z.infer<typeof StartRunBodySchema>;

export const RunIdParamsSchema = z.strictObject({ runId: Id });
export const ApprovalIdParamsSchema = z.strictObject({ approvalId: Id });

/** Strict: an `approver` (or any other) field in the body is refused; the approver is the token's subject. */
export const DecisionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(2000).optional(),
});
export type DecisionBody = z.infer<typeof DecisionBodySchema>;

export const ApprovalsQuerySchema = z.strictObject({
  status: z.literal('pending').default('pending'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const ApprovalSchema = z.object({
  approvalId: z.string(),
  runId: z.string(),
  step: z.number().int(),
  tool: z.string(),
  args: z.record(z.string(), z.json()),
  requiredGroup: z.string(),
  requestedBy: z.string(),
  requestedAt: z.string(),
  expiresAt: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled']),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  comment: z.string().optional(),
});

export const RunViewSchema = z.object({
  runId: z.string(),
  agent: z.string(),
  requester: z.string(),
  status: z.enum(['running', 'awaiting_approval', 'completed', 'rejected', 'failed', 'cancelled']),
  steps: z.array(
    z.object({
      index: z.number().int(),
      tool: z.string(),
      args: z.record(z.string(), z.json()),
      decision: z.object({ outcome: z.enum(['allow', 'deny', 'require_approval']), reason: z.string() }).optional(),
      approvalId: z.string().optional(),
      status: z.string(),
      result: z.object({ isError: z.boolean(), data: z.json() }).optional(),
      error: z.string().optional(),
    }),
  ),
  pendingApprovals: z.array(ApprovalSchema),
  approvals: z.array(ApprovalSchema),
  result: z.json(),
  error: z.object({ type: z.string(), message: z.string() }).optional(),
  waitingFor: z.string().optional(),
});

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export const schemas = { StartRunBodySchema, DecisionBodySchema, ApprovalSchema, RunViewSchema, ErrorBodySchema };
