import { z } from 'zod';
import { ApprovalSchema, DecisionBodySchema, ErrorBodySchema, InputBodySchema, PendingInputSchema, RunViewSchema, StartRunBodySchema } from './schemas.js';

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });
const err = (description: string) => ({ description, content: json(ErrorBodySchema) });
const bearer = [{ bearer: [] }];

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'Airlock API', version: '0.1.0', description: 'Start governed agent runs, decide approvals, inspect runs.' },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: bearer,
    paths: {
      '/v1/runs': {
        post: {
          summary: 'Start an agent run (role: requester)',
          requestBody: { required: true, content: json(StartRunBodySchema) },
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
          responses: {
            '202': { description: 'Run started', content: json(z.object({ runId: z.string(), status: z.string() })) },
            '400': err('Malformed body, unknown agent or invalid input'),
            '401': err('Missing or invalid token'),
            '403': err('Caller may not start runs'),
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
          summary: 'Pending approvals the caller may decide',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['pending'] } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
          responses: { '200': { description: 'Approvals', content: json(z.object({ approvals: z.array(ApprovalSchema) })) } },
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
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { '200': { description: 'alive' } } } },
      '/readyz': { get: { security: [], summary: 'Readiness: Temporal reachable and a worker polling', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
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
