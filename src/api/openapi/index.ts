// The OpenAPI 3.1 document, generated from the zod schemas the routes validate with (one declaration per
// operation in this folder's area modules) by @asteasolutions/zod-to-openapi: named schemas become components
// and every reference is a `#/components/...` one. test/api/openapi.test.ts lints it (Redocly) and checks that
// it lists exactly the routes the app serves.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { MAX_BODY_DEPTH } from '../bodyDepth.js';
import { JSON_BODY_LIMIT } from '../http.js';
import { approvalOperations } from './approvals.js';
import { auditOperations } from './audit.js';
import { eventOperations } from './events.js';
import { governanceOperations } from './governance.js';
import { register } from './operation.js';
import { platformOperations } from './platform.js';
import { registryOperations } from './registry.js';
import { runOperations } from './runs.js';

const TAGS = [
  { name: 'Runs', description: 'Start governed agent runs and follow them' },
  { name: 'Approvals', description: 'Human approval of tool calls that policy holds' },
  { name: 'Registry', description: 'The MCP servers agents may call, and their pinned tool definitions' },
  { name: 'Governance', description: 'The policy set and the readiness report' },
  { name: 'Audit', description: 'The hash-chained audit trail' },
  { name: 'Identity', description: 'Token revocation' },
  { name: 'Temporal UI', description: "The Temporal UI's remote codec" },
  { name: 'Service', description: 'Health, readiness, metrics and this documentation' },
];

/** `z.json()`'s recursion as the generator writes it wraps each self-reference in `oneOf: [ref, null]`, which a null matches twice; this says the same once. */
const JSON_VALUE = {
  description: 'Any JSON value',
  anyOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'null' },
    { type: 'array', items: { $ref: '#/components/schemas/JsonValue' } },
    { type: 'object', additionalProperties: { $ref: '#/components/schemas/JsonValue' } },
  ],
} as const;

export interface OpenApiOptions {
  /** The configured base URL (or "/"), never a request's Host. */
  serverUrl?: string;
  /** Whether this API serves /metrics (observability.metrics.enabled). */
  metrics?: boolean;
}

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

export function openApiDocument({ serverUrl = '/', metrics = false }: OpenApiOptions = {}): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A token of the configured identity provider (or `airlock token <user>` with the dev issuer)',
  });
  register(registry, [...runOperations, ...eventOperations, ...approvalOperations, ...registryOperations, ...governanceOperations, ...auditOperations, ...platformOperations({ metrics })]);
  const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Airlock API',
      version: '0.1.0',
      description: `Start governed agent runs, decide approvals, inspect runs, the registry and the audit trail. Every error is \`{ "error": { "code", "message", "details"? } }\` with a stable \`code\`. JSON bodies are limited to ${JSON_BODY_LIMIT} and ${MAX_BODY_DEPTH} levels of nesting. A path served with other methods answers 405 with \`Allow\`.`,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl }],
    tags: TAGS,
    security: [{ bearer: [] }],
  });
  doc.components!.schemas!.JsonValue = JSON_VALUE as never;
  return doc;
}
