import { z } from 'zod';

const Id = z.string().min(1).max(200);

export const StartRunBodySchema = z.strictObject({
  agent: z.string().min(1).max(100),
  input: z.record(z.string(), z.json()),
  /** Only for service-account callers: the user the service acts for (recorded, given to policy, barred from approving). */
  onBehalfOf: z.string().min(1).max(200).optional(),
});
export type StartRunBody = z.infer<typeof StartRunBodySchema>;

export const RunIdParamsSchema = z.strictObject({ runId: Id });
export const ApprovalIdParamsSchema = z.strictObject({ approvalId: Id });

/** The answer to a question the agent's graph asked (interrupt): any JSON value. */
export const InputBodySchema = z.strictObject({ inputId: z.string().min(1).max(200), value: z.json() });
export type InputBody = z.infer<typeof InputBodySchema>;

/** Strict: an `approver` (or any other) field in the body is refused; the approver is the token's subject. */
export const DecisionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(2000).optional(),
  /** Approve with changed args (for example a smaller refund); re-validated and re-decided by policy. */
  args: z.record(z.string(), z.json()).optional(),
  /** The approval digest the approver reviewed; refused with 409 if the approval has changed since. */
  digest: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest')
    .optional(),
});
export type DecisionBody = z.infer<typeof DecisionBodySchema>;

/** `/v1/registry/servers/:server/...` */
export const ServerParamsSchema = z.strictObject({ server: z.string().min(1).max(100) });
/** Quarantine and retire: why, for the audit trail. */
export const ReasonBodySchema = z.strictObject({ reason: z.string().min(1).max(2000) });
/** Approve: why, and the reason for accepting scanner findings when there are any. */
export const ApproveServerBodySchema = z.strictObject({ reason: z.string().min(1).max(2000), overrideFindings: z.string().min(1).max(2000).optional() });

/** Revoke one token (`jti`) or every token of a subject issued until now (`subject`); exactly one of the two. */
export const RevocationBodySchema = z
  .strictObject({
    jti: z.string().min(1).max(200).optional(),
    subject: z.string().min(1).max(200).optional(),
    reason: z.string().min(1).max(2000),
  })
  .refine((b) => (b.jti === undefined) !== (b.subject === undefined), { message: 'give exactly one of jti and subject' });
export type RevocationBody = z.infer<typeof RevocationBodySchema>;

export const RevocationSchema = z.object({ kind: z.enum(['jti', 'subject']), value: z.string(), reason: z.string(), revokedBy: z.string(), revokedAt: z.string() });

/** The `Idempotency-Key` header: printable ASCII, at most 255 characters. */
export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const ApprovalsQuerySchema = z.strictObject({
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled', 'superseded']).default('pending'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** Decided statuses only: the `next` of the previous page (opaque). */
  cursor: z.string().min(1).max(4000).optional(),
});

export const isoTime = z.iso.datetime({ offset: true, error: 'expected an ISO-8601 time such as 2026-11-26T10:00:00Z' }).transform((s) => new Date(s).toISOString());

export const AuditQuerySchema = z.strictObject({
  runId: z.string().min(1).max(200).optional(),
  principal: z.string().min(1).max(200).optional(),
  /** `server.tool`, or a bare tool name. */
  tool: z.string().min(1).max(200).optional(),
  outcome: z.string().min(1).max(50).optional(),
  type: z.string().min(1).max(50).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  /** The `next` cursor of the previous page. */
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  format: z.enum(['json', 'jsonl']).default('json'),
});

export const ApprovalSchema = z.object({
  approvalId: z.string(),
  runId: z.string(),
  step: z.number().int(),
  tool: z.string(),
  args: z.record(z.string(), z.json()),
  digest: z.string(),
  policyVersion: z.string(),
  policyIds: z.array(z.string()),
  reason: z.string(),
  requiredGroup: z.string(),
  quorum: z.number().int(),
  escalateTo: z.string().optional(),
  escalatesAt: z.string().optional(),
  escalated: z.boolean(),
  requestedBy: z.string(),
  onBehalfOf: z.string().optional(),
  requestedAt: z.string(),
  expiresAt: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled', 'superseded']),
  votes: z.array(z.object({ by: z.string(), decision: z.enum(['approve', 'reject']), at: z.string(), comment: z.string().optional() })),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  comment: z.string().optional(),
  supersededBy: z.string().optional(),
  editedBy: z.string().optional(),
  replaces: z.string().optional(),
});

const ModelUseSchema = z.object({
  provider: z.string(),
  model: z.string(),
  reason: z.string(),
  classification: z.string(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: z.number(),
});

export const PendingInputSchema = z.object({
  inputId: z.string(),
  value: z.json(),
  node: z.string().optional(),
  askedAt: z.string(),
  requester: z.string(),
  onBehalfOf: z.string().optional(),
  groups: z.array(z.string()),
  status: z.enum(['pending', 'answered', 'cancelled']),
  answeredBy: z.string().optional(),
  answeredAt: z.string().optional(),
  answer: z.json().optional(),
});

export const RunViewSchema = z.object({
  runId: z.string(),
  agent: z.string(),
  requester: z.string(),
  identity: z.object({ kind: z.enum(['user', 'service', 'workflow']), subject: z.string(), groups: z.array(z.string()), onBehalfOf: z.string().optional() }),
  status: z.enum(['running', 'awaiting_approval', 'awaiting_input', 'completed', 'rejected', 'failed', 'cancelled']),
  steps: z.array(
    z.object({
      index: z.number().int(),
      tool: z.string(),
      args: z.record(z.string(), z.json()),
      decision: z.object({ outcome: z.enum(['allow', 'deny', 'require_approval']), reason: z.string(), policyIds: z.array(z.string()), policyVersion: z.string() }).optional(),
      approvalId: z.string().optional(),
      status: z.string(),
      result: z.object({ isError: z.boolean(), data: z.json(), digest: z.string().optional(), durationMs: z.number().optional() }).optional(),
      error: z.string().optional(),
      model: ModelUseSchema.optional(),
      node: z.string().optional(),
    }),
  ),
  pendingApprovals: z.array(ApprovalSchema),
  approvals: z.array(ApprovalSchema),
  result: z.json(),
  error: z.object({ type: z.string(), message: z.string() }).optional(),
  waitingFor: z.string().optional(),
  path: z.array(z.string()).optional(),
  pendingInputs: z.array(PendingInputSchema).optional(),
  inputs: z.array(PendingInputSchema).optional(),
  usage: z.object({ calls: z.number().int(), inputTokens: z.number().int(), outputTokens: z.number().int(), costUsd: z.number() }),
  finalModel: ModelUseSchema.optional(),
});

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export const schemas = { StartRunBodySchema, RevocationBodySchema, RevocationSchema, DecisionBodySchema, InputBodySchema, ApprovalSchema, PendingInputSchema, RunViewSchema, ErrorBodySchema };
