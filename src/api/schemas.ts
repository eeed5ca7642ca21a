// What requests carry: bodies, path parameters, queries and headers. Routes validate with these objects and the
// OpenAPI document (src/api/openapi/) describes the same ones; `.openapi('Name')` makes a schema a component.
import { JsonValue, z } from './openapi/zod.js';

const Id = z.string().min(1).max(200);

export const StartRunBodySchema = z
  .strictObject({
    agent: z.string().min(1).max(100).openapi({ description: 'A configured agent (`agents` in the config)' }),
    input: z.record(z.string(), JsonValue).openapi({ description: "The agent's input; must match its `inputSchema`" }),
    /** Only for service-account callers: the user the service acts for (recorded, given to policy, barred from approving). */
    onBehalfOf: z.string().min(1).max(200).optional().openapi({ description: 'Service accounts only: the user the service acts for' }),
  })
  .openapi('StartRunBody', { example: { agent: 'refund-assistant', input: { customerId: 'C-1001', invoiceId: 'INV-2001', message: 'Customer was double charged; please refund.' } } });
export type StartRunBody = z.infer<typeof StartRunBodySchema>;

export const RunIdParamsSchema = z.strictObject({ runId: Id });
export const ApprovalIdParamsSchema = z.strictObject({ approvalId: Id });

/** The answer to a question the agent's graph asked (interrupt): any JSON value. */
export const InputBodySchema = z.strictObject({ inputId: z.string().min(1).max(200), value: JsonValue }).openapi('InputBody', { example: { inputId: 'in-1', value: { confirm: true } } });
export type InputBody = z.infer<typeof InputBodySchema>;

/** Strict: an `approver` (or any other) field in the body is refused; the approver is the token's subject. */
export const DecisionBodySchema = z
  .strictObject({
    decision: z.enum(['approve', 'reject']),
    comment: z.string().max(2000).optional(),
    /** Approve with changed args (for example a smaller refund); re-validated and re-decided by policy. */
    args: z.record(z.string(), JsonValue).optional().openapi({ description: 'Approve with changed arguments; re-validated and re-decided by policy' }),
    /** The approval digest the approver reviewed; refused with 409 if the approval has changed since. */
    digest: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest')
      .optional()
      .openapi({ description: 'The approval digest the approver reviewed; 409 if the approval has changed since' }),
  })
  .openapi('DecisionBody', { example: { decision: 'approve', comment: 'Double charge confirmed on INV-2001' } });
export type DecisionBody = z.infer<typeof DecisionBodySchema>;

/** `/v1/registry/servers/:server/...` */
export const ServerParamsSchema = z.strictObject({ server: z.string().min(1).max(100) });
/** Quarantine and retire: why, for the audit trail. */
export const ReasonBodySchema = z.strictObject({ reason: z.string().min(1).max(2000) }).openapi('ReasonBody', { example: { reason: 'Vendor reported a compromised release' } });
/** Approve: why, and the reason for accepting scanner findings when there are any. */
export const ApproveServerBodySchema = z
  .strictObject({
    reason: z.string().min(1).max(2000),
    overrideFindings: z.string().min(1).max(2000).optional().openapi({ description: 'Why the scanner findings are accepted (needed when there are any)' }),
  })
  .openapi('ApproveServerBody', { example: { reason: 'Reviewed tool definitions of release 2.1' } });

/** Revoke one token (`jti`) or every token of a subject issued until now (`subject`); exactly one of the two. */
export const RevocationBodySchema = z
  .strictObject({
    jti: z.string().min(1).max(200).optional(),
    subject: z.string().min(1).max(200).optional(),
    reason: z.string().min(1).max(2000),
  })
  .refine((b) => (b.jti === undefined) !== (b.subject === undefined), { message: 'give exactly one of jti and subject' })
  .openapi('RevocationBody', { description: 'Exactly one of `jti` and `subject`, and a reason', example: { subject: 'mallory', reason: 'Laptop lost' } });
export type RevocationBody = z.infer<typeof RevocationBodySchema>;

/** The `Idempotency-Key` header: printable ASCII, at most 255 characters. */
export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
/** The start-run request's headers, as the document shows them (the route checks the key with IdempotencyKeySchema). */
export const StartRunHeadersSchema = z.object({
  'Idempotency-Key': IdempotencyKeySchema.optional().openapi({ description: 'Binds, per requester and for good, to the first body it came with' }),
});

const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled', 'superseded'] as const;
export const ApprovalStatusSchema = z.enum(APPROVAL_STATUSES).openapi('ApprovalStatus');

export const ApprovalsQuerySchema = z.strictObject({
  status: ApprovalStatusSchema.default('pending'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** Decided statuses only: the `next` of the previous page (opaque). */
  cursor: z.string().min(1).max(4000).optional().openapi({ description: 'Decided statuses only: the `next` of the previous page (opaque)' }),
});

export const isoTime = z.iso.datetime({ offset: true, error: 'expected an ISO-8601 time such as 2026-11-26T10:00:00Z' }).transform((s) => new Date(s).toISOString());

export const AuditQuerySchema = z.strictObject({
  runId: z.string().min(1).max(200).optional(),
  principal: z.string().min(1).max(200).optional(),
  /** `server.tool`, or a bare tool name. */
  tool: z.string().min(1).max(200).optional().openapi({ description: '`server.tool`, or a bare tool name' }),
  outcome: z.string().min(1).max(50).optional(),
  type: z.string().min(1).max(50).optional().openapi({ description: 'An event type such as `policy.decided`' }),
  from: isoTime.optional(),
  to: isoTime.optional(),
  /** The `next` cursor of the previous page. */
  // Written out: the generator takes coercion's acceptance of null for a nullable parameter.
  after: z.coerce.number().int().min(0).optional().openapi({ type: 'integer', minimum: 0, description: 'The `next` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  format: z.enum(['json', 'jsonl']).default('json').openapi({ description: '`jsonl`: every matching record, as a download (`application/x-ndjson`)' }),
});

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const Base64Schema = z.string().regex(BASE64, 'expected base64');
/** The remote codec's body and answer: Temporal payloads in proto3 JSON (base64 metadata values and data). */
export const CodecBodySchema = z
  .strictObject({
    payloads: z.array(z.object({ metadata: z.record(z.string(), Base64Schema).optional(), data: Base64Schema.optional() })).max(10_000),
  })
  .openapi('CodecPayloads', { example: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJhIjoxfQ==' }] } });
