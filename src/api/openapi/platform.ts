// What load balancers, scrapers, the Temporal UI and newcomers call (src/api/routes/health.ts, codec.ts, docs.ts).
import { CodecBodySchema } from '../schemas.js';
import { jsonBody, jsonResponse, type Operation } from './operation.js';
import { z } from './zod.js';

const Readiness = z.object({ temporal: z.boolean(), worker: z.boolean() }).openapi('Readiness');

/** The codec's two operations: same body, same answer, same refusals. */
const codec = (op: 'encode' | 'decode'): Operation => ({
  method: 'post',
  path: `/codec/${op}`,
  operationId: `codec${op === 'encode' ? 'Encode' : 'Decode'}`,
  tags: ['Temporal UI'],
  roles: ['operator', 'admin'],
  summary: op === 'decode' ? "The Temporal UI's remote codec: decrypt payloads for display" : "The Temporal UI's remote codec: encrypt payloads",
  description: `Payloads in proto3 JSON (base64 metadata values and data), answered in the same shape. Browsers may call from \`temporal.uiOrigins\` (CORS). Bodies up to 4 MB.`,
  request: { headers: z.object({ 'X-Namespace': z.string().openapi({ description: 'Must be the namespace this API serves' }) }), body: jsonBody(CodecBodySchema) },
  responses: { 200: jsonResponse('The payloads, run through the payload codec', CodecBodySchema) },
  errors: { 400: 'Malformed body, or no X-Namespace header', 403: 'Caller lacks the role, or another namespace or origin', 422: 'A payload the codec cannot read' },
});

export function platformOperations(o: { metrics: boolean }): Operation[] {
  const tags: [string] = ['Service'];
  return [
    {
      method: 'get',
      path: '/healthz',
      operationId: 'liveness',
      tags,
      roles: 'public',
      summary: 'Liveness',
      responses: { 200: jsonResponse('Alive', z.object({ status: z.literal('ok') })) },
    },
    {
      method: 'get',
      path: '/readyz',
      operationId: 'readiness',
      tags,
      roles: 'public',
      summary: 'Readiness: Temporal reachable and a live worker (a heartbeat within 10 s; else a worker polling)',
      responses: { 200: jsonResponse('Ready', Readiness), 503: jsonResponse('Not ready', Readiness) },
    },
    ...(o.metrics
      ? [
          {
            method: 'get',
            path: '/metrics',
            operationId: 'metrics',
            tags,
            roles: 'public',
            summary: 'Prometheus metrics (served when observability.metrics.enabled)',
            responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } },
          } satisfies Operation,
        ]
      : []),
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openApiDocument',
      tags,
      roles: 'public',
      summary: 'This document (OpenAPI 3.1)',
      responses: { 200: jsonResponse('The OpenAPI document', z.record(z.string(), z.unknown())) },
    },
    {
      method: 'get',
      path: '/docs',
      operationId: 'apiDocs',
      tags,
      roles: 'public',
      summary: 'Interactive documentation of this document (Swagger UI, served locally)',
      responses: { 200: { description: 'An HTML page', content: { 'text/html': { schema: z.string() } } } },
    },
    codec('encode'),
    codec('decode'),
  ];
}
