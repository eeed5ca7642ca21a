// The audit trail (src/api/routes/audit.ts): filtered pages, a JSONL export, one run's whole story.
import { AUDIT_EVENT_TYPES } from '../../audit/types.js';
import { AuditQuerySchema, RunIdParamsSchema } from '../schemas.js';
import { jsonResponse, type Operation } from './operation.js';
import { JsonValue, z } from './zod.js';

/** One record as the store returns it (src/audit/types.ts: AuditRecord). */
export const AuditRecordSchema = z
  .object({
    seq: z.number().int().openapi({ description: 'Global order of insertion (the page cursor)' }),
    eventId: z.string(),
    chain: z.string().openapi({ description: 'Hash chain: `run:<runId>`, `registry` or `identity`' }),
    chainSeq: z.number().int().openapi({ description: 'Position in its chain, from 1' }),
    type: z.enum(AUDIT_EVENT_TYPES),
    at: z.string().openapi({ format: 'date-time', description: 'When the event happened' }),
    runId: z.string().optional(),
    principal: z.string().optional().openapi({ description: 'Who acted' }),
    onBehalfOf: z.string().optional(),
    agent: z.string().optional(),
    server: z.string().optional(),
    tool: z.string().optional(),
    outcome: z.string().optional(),
    data: z.record(z.string(), JsonValue).openapi({ description: 'Event details, already redacted' }),
    prevHash: z.string(),
    hash: z.string(),
    recordedAt: z.string().optional().openapi({ format: 'date-time', description: 'When the store wrote it' }),
  })
  .openapi('AuditRecord');

export const AuditPageSchema = z
  .object({ records: z.array(AuditRecordSchema), next: z.string().nullable().openapi({ description: 'Pass as `after` for the next page; null after the last' }) })
  .openapi('AuditPage');
export type AuditPage = z.infer<typeof AuditPageSchema>;
export const RunAuditSchema = z.object({ runId: z.string(), records: z.array(AuditRecordSchema) }).openapi('RunAudit');
export type RunAudit = z.infer<typeof RunAuditSchema>;

const tags: [string] = ['Audit'];

export const auditOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/audit',
    operationId: 'queryAudit',
    tags,
    roles: ['admin', 'operator'],
    summary: 'Audit records, filtered and paged, or all of them as JSONL',
    request: { query: AuditQuerySchema },
    responses: {
      200: {
        description: 'A page of records (`format=json`), or every matching record, one JSON object a line (`format=jsonl`)',
        content: { 'application/json': { schema: AuditPageSchema }, 'application/x-ndjson': { schema: z.string() } },
      },
    },
    errors: { 400: 'Bad filter, time or cursor' },
  },
  {
    method: 'get',
    path: '/v1/runs/{runId}/audit',
    operationId: 'getRunAudit',
    tags,
    roles: ['admin', 'operator'],
    summary: "A run's whole audit trail, in order",
    request: { params: RunIdParamsSchema },
    responses: { 200: jsonResponse("The run's records", RunAuditSchema) },
    errors: { 404: 'No records for this run' },
  },
];
