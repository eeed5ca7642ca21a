import { z } from 'zod';
import { RUN_STATUSES } from '../core/run.js';
import { MAX_BODY_DEPTH } from './bodyDepth.js';
import { RunSummarySchema } from './listSchemas.js';
import { ApprovalSchema, DecisionBodySchema, ErrorBodySchema, InputBodySchema, PendingInputSchema, RevocationBodySchema, RevocationSchema, RunViewSchema, StartRunBodySchema } from './schemas.js';

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });
const err = (description: string) => ({ description, content: json(ErrorBodySchema) });
const bearer = [{ bearer: [] }];
const query = (name: string, schema: object, description?: string) => ({ name, in: 'query', required: false, schema, ...(description ? { description } : {}) });
const cursor = query('cursor', { type: 'string' }, 'The `next` of the previous page, with the same filters (opaque)');

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. `serverUrl` is configured (or "/"), never a request's Host. */
export function openApiDocument(serverUrl = '/') {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock API',
      version: '0.1.0',
      description: `Start governed agent runs, decide approvals, inspect runs. JSON bodies nesting deeper than ${MAX_BODY_DEPTH} levels are refused with 400. A revoked token gets 401.`,
    },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: bearer,
    paths: {
      '/v1/runs': {
        get: {
          summary: 'List runs from Temporal visibility, filtered and paged (requesters: only their own)',
          description:
            'Each run from its search attributes (no query to the run). Operators, admins and approvers list any run; everyone else lists only runs they requested (another requester is 403). Pass `next` as `cursor` with the same filters for the next page.',
          parameters: [
            query('agent', { type: 'string' }),
            query('status', { type: 'string', enum: [...RUN_STATUSES] }),
            query('requester', { type: 'string' }),
            query('from', { type: 'string', format: 'date-time' }, 'Started at or after'),
            query('to', { type: 'string', format: 'date-time' }, 'Started at or before'),
            query('limit', { type: 'integer', minimum: 1, maximum: 500, default: 50 }),
            cursor,
          ],
          responses: {
            '200': { description: 'A page of runs; `next` when more may follow', content: json(z.object({ runs: z.array(RunSummarySchema), next: z.string().optional() })) },
            '400': err('Bad filter value or cursor'),
            '403': err('A requester asked for runs of another requester'),
          },
        },
        post: {
          summary: 'Start an agent run (role: requester)',
          description:
            'An Idempotency-Key binds, per requester and for good, to the first body it came with (agent, input, onBehalfOf). The same key and body again returns that run (200), in flight or ended, and never starts a second one; another body under the key is 422. onBehalfOf (service accounts only) must name a subject the identity provider knows.',
          requestBody: { required: true, content: json(StartRunBodySchema) },
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', minLength: 1, maxLength: 255 } }],
          responses: {
            '200': { description: 'The run this Idempotency-Key already started (header Idempotent-Replayed: true)', content: json(z.object({ runId: z.string(), status: z.string() })) },
            '202': { description: 'Run started', content: json(z.object({ runId: z.string(), status: z.string() })) },
            '400': err('Malformed body or Idempotency-Key, unknown agent or invalid input'),
            '401': err('Missing, invalid or revoked token'),
            '403': err('Caller may not start runs, or onBehalfOf is not allowed or names an unknown subject'),
            '422': err('Idempotency-Key already used with a different body'),
          },
        },
      },
      '/v1/runs/{runId}': {
        get: {
          summary: 'A run: status, steps, pending approvals, result',
          parameters: [{ name: 'runId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'The run', content: json(RunViewSchema) }, '403': err('Not visible to caller'), '404': err('Unknown run') },
        },
      },
      '/v1/runs/{runId}/cancel': {
        post: {
          summary: 'Cancel a run (its requester, or role operator)',
          parameters: [{ name: 'runId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '202': { description: 'Cancellation requested' }, '403': err('Forbidden'), '404': err('Unknown run'), '409': err('Run already closed') },
        },
      },
      '/v1/runs/{runId}/input': {
        post: {
          summary: "Answer a question the agent's graph asked (interrupt): the requester, or a member of a group the agent names",
          parameters: [{ name: 'runId', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: json(InputBodySchema) },
          responses: {
            '200': { description: 'Answer recorded; the graph resumes', content: json(z.object({ input: PendingInputSchema })) },
            '400': err('Malformed body'),
            '403': err('Caller may not answer this question'),
            '404': err('Unknown run or input'),
            '409': err('Already answered'),
          },
        },
      },
      '/v1/approvals': {
        get: {
          summary: 'Approvals by status: pending ones the caller may decide, or decided ones with their votes',
          description:
            "pending (the default): what the caller may decide now, in one list. Any other status: approvals of the runs visibility finds, each with `votes`, `decidedBy` and `decidedAt`, in pages (`next`; a page may hold fewer than `limit`). Approvers see their groups' approvals, the escalation group's once escalated, and those they voted on; operators and admins see all.",
          parameters: [
            query('status', { type: 'string', enum: ApprovalSchema.shape.status.options, default: 'pending' }),
            query('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
            cursor,
          ],
          responses: {
            '200': { description: 'Approvals', content: json(z.object({ approvals: z.array(ApprovalSchema), next: z.string().optional() })) },
            '400': err('Bad status, limit or cursor'),
            '403': err('Caller is neither an approver nor an operator'),
          },
        },
      },
      '/v1/approvals/{approvalId}/decision': {
        post: {
          summary: 'Approve or reject (role: approver in the required group; never the requester)',
          parameters: [{ name: 'approvalId', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: json(DecisionBodySchema) },
          responses: {
            '200': { description: 'Decision recorded', content: json(z.object({ approval: ApprovalSchema })) },
            '400': err('Malformed body'),
            '403': err('Caller may not decide this approval'),
            '404': err('Unknown approval'),
            '409': err('Already decided'),
            '410': err('Expired'),
          },
        },
      },
      '/v1/revocations': {
        post: {
          summary: 'Revoke a token by jti, or the tokens of a subject issued until now (role: admin)',
          requestBody: { required: true, content: json(RevocationBodySchema) },
          responses: {
            '201': { description: 'Revoked: every API replica refuses the token(s) with 401', content: json(z.object({ revocation: RevocationSchema })) },
            '400': err('Malformed body (exactly one of jti and subject, and a reason)'),
            '403': err('Caller is not an admin'),
          },
        },
        get: {
          summary: 'The revocations, newest first (role: admin)',
          responses: { '200': { description: 'Revocations', content: json(z.object({ revocations: z.array(RevocationSchema) })) }, '403': err('Caller is not an admin') },
        },
      },
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { '200': { description: 'alive' } } } },
      '/readyz': {
        get: {
          security: [],
          summary: 'Readiness: Temporal reachable and a live worker (a heartbeat within 10 s; else a worker polling)',
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: {
          security: [],
          summary: 'Prometheus metrics (when observability.metrics.enabled)',
          responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
    },
  };
}
