// What the run, approval and revocation routes answer, as components of the document. Each mirrors a type of
// src/core/types.ts (the routes return those values; `satisfies` in the routes keeps the two in step) and
// error bodies carry a wire code of src/core/errors.ts.
import { ERRORS } from '../../core/errors.js';
import { RunStatusSchema } from '../listSchemas.js';
import { ApprovalStatusSchema } from '../schemas.js';
import { JsonValue, z } from './zod.js';

const JsonObject = z.record(z.string(), JsonValue);
const Time = z.string().openapi({ format: 'date-time' });

export const ApprovalSchema = z
  .object({
    approvalId: z.string(),
    runId: z.string(),
    step: z.number().int(),
    tool: z.string(),
    args: JsonObject,
    digest: z.string().openapi({ description: 'Binds the approval to exactly this call under this policy version' }),
    policyVersion: z.string(),
    policyIds: z.array(z.string()),
    reason: z.string(),
    requiredGroup: z.string(),
    quorum: z.number().int(),
    escalateTo: z.string().optional(),
    escalatesAt: Time.optional(),
    escalated: z.boolean(),
    requestedBy: z.string(),
    runsAs: z.string().optional(),
    onBehalfOf: z.string().optional(),
    requestedAt: Time,
    expiresAt: Time,
    status: ApprovalStatusSchema,
    votes: z.array(z.object({ by: z.string(), decision: z.enum(['approve', 'reject']), at: Time, comment: z.string().optional() })),
    decidedBy: z.string().optional(),
    decidedAt: Time.optional(),
    comment: z.string().optional(),
    supersededBy: z.string().optional(),
    editedBy: z.string().optional(),
    replaces: z.string().optional(),
  })
  .openapi('Approval');

const ModelUseSchema = z
  .object({
    provider: z.string(),
    model: z.string(),
    reason: z.string(),
    classification: z.string(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costUsd: z.number(),
  })
  .openapi('ModelUse');

export const PendingInputSchema = z
  .object({
    inputId: z.string(),
    value: JsonValue,
    node: z.string().optional(),
    askedAt: Time,
    requester: z.string(),
    onBehalfOf: z.string().optional(),
    groups: z.array(z.string()),
    status: z.enum(['pending', 'answered', 'cancelled']),
    answeredBy: z.string().optional(),
    answeredAt: Time.optional(),
    answer: JsonValue.optional(),
  })
  .openapi('PendingInput');

const StepSchema = z.object({
  index: z.number().int(),
  tool: z.string(),
  args: JsonObject,
  decision: z
    .object({ outcome: z.enum(['allow', 'deny', 'require_approval']), reason: z.string(), policyIds: z.array(z.string()), policyVersion: z.string(), write: z.boolean().optional() })
    .optional(),
  approvalId: z.string().optional(),
  status: z.enum(['proposed', 'awaiting_approval', 'running', 'completed', 'denied', 'rejected', 'failed']),
  result: z.object({ isError: z.boolean(), data: JsonValue, digest: z.string().optional(), durationMs: z.number().optional() }).optional(),
  error: z.string().optional(),
  model: ModelUseSchema.optional(),
  node: z.string().optional(),
});

const StepRefSchema = z.object({ step: z.number().int(), tool: z.string(), args: JsonObject });

export const RunViewSchema = z
  .object({
    runId: z.string(),
    agent: z.string(),
    requester: z.string(),
    identity: z.object({ kind: z.enum(['user', 'service', 'workflow']), subject: z.string(), groups: z.array(z.string()), onBehalfOf: z.string().optional() }),
    status: RunStatusSchema,
    steps: z.array(StepSchema),
    pendingApprovals: z.array(ApprovalSchema),
    approvals: z.array(ApprovalSchema),
    result: JsonValue,
    error: z.object({ type: z.string(), message: z.string() }).optional(),
    waitingFor: z.string().optional(),
    pendingInputs: z.array(PendingInputSchema).optional(),
    inputs: z.array(PendingInputSchema).optional(),
    path: z.array(z.string()).optional(),
    usage: z.object({ calls: z.number().int(), inputTokens: z.number().int(), outputTokens: z.number().int(), costUsd: z.number() }),
    finalModel: ModelUseSchema.optional(),
    cancelledBy: z.string().optional(),
    reconciliation: z
      .object({
        reason: z.string(),
        done: z.array(StepRefSchema.extend({ resultDigest: z.string().optional() })),
        notDone: z.array(StepRefSchema.extend({ status: StepSchema.shape.status, error: z.string().optional() })),
      })
      .optional()
      .openapi({ description: 'Set when the run ended without completing after it changed a business system' }),
    labels: z
      .object({
        classification: z.enum(['public', 'internal', 'confidential', 'restricted']),
        servers: z.array(z.string()),
        untrusted: z.boolean(),
        untrustedSources: z.array(z.string()),
      })
      .optional()
      .openapi('RunLabels', {
        description:
          'What the run has touched (only ever rises): the highest classification it holds, the servers whose results it has seen, and whether (and from where) untrusted content entered it',
      }),
  })
  .openapi('RunView');

/** A run the start request started, or the one its Idempotency-Key already started. */
export const RunStartedSchema = z.object({ runId: z.string(), status: z.string() }).openapi('RunStarted', { example: { runId: 'run-7Q2XK4M9PZ3B', status: 'running' } });

export const RevocationSchema = z.object({ kind: z.enum(['jti', 'subject']), value: z.string(), reason: z.string(), revokedBy: z.string(), revokedAt: Time }).openapi('Revocation');

/** Every wire code of the error registry, once. */
const WIRE_CODES = [...new Set(Object.values(ERRORS).map((e) => e.wire))] as [string, ...string[]];

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(WIRE_CODES).openapi({ description: 'Stable: match on it (src/core/errors.ts)' }),
      message: z.string().openapi({ description: 'For a person; may change' }),
      details: z.unknown().optional().openapi({ description: 'For a schema violation, every issue: `[{ path, message }]`' }),
    }),
  })
  .openapi('Error', {
    example: {
      error: {
        code: 'invalid_request',
        message: 'input: Invalid input: expected record, received undefined',
        details: [{ path: 'input', message: 'Invalid input: expected record, received undefined' }],
      },
    },
  });

export type RunViewBody = z.infer<typeof RunViewSchema>;
export type ApprovalBody = z.infer<typeof ApprovalSchema>;
export type PendingInputBody = z.infer<typeof PendingInputSchema>;
export type RevocationView = z.infer<typeof RevocationSchema>;
