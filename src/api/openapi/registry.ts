// The MCP server registry (src/api/routes/registry.ts): the catalog with its pins, and admins' changes.
// The answers mirror what the routes build from the config, the lockfile (src/registry/lock.ts) and the
// status store (src/core/registry.ts: StatusChange); the routes type their answers with these.
import { ApproveServerBodySchema, ReasonBodySchema, ServerParamsSchema } from '../schemas.js';
import { jsonBody, jsonResponse, type Operation } from './operation.js';
import { z } from './zod.js';

const Time = z.string().openapi({ format: 'date-time' });
const StatusChangeSchema = z
  .object({ status: z.enum(['approved', 'quarantined', 'retired']), by: z.string(), at: Time, reason: z.string() })
  .openapi('ServerStatusChange', { description: 'An admin decision taken at run time, which overrides the catalog’s status' });

export const RegistryServersSchema = z
  .object({
    lockFile: z.string(),
    servers: z.array(
      z.object({
        id: z.string(),
        transport: z.enum(['stdio', 'http']),
        status: z.enum(['proposed', 'approved', 'quarantined', 'retired']).openapi({ description: 'Effective: a catalog retirement wins, else the runtime decision' }),
        statusChange: StatusChangeSchema.nullable(),
        owner: z.string().nullable(),
        classification: z.enum(['public', 'internal', 'confidential', 'restricted']),
        allowedTools: z.array(z.string()).nullable().openapi({ description: 'The catalog’s `tools`; null: all pinned tools' }),
        pinned: z
          .object({
            at: Time,
            by: z.string(),
            reviewedBy: z.string().nullable().openapi({ description: 'The named reviewer of the definitions (approve); null: pinned without one' }),
            tools: z.array(z.string()),
            override: z.object({ by: z.string(), reason: z.string(), findings: z.array(z.string()) }).nullable(),
          })
          .nullable()
          .openapi({ description: 'Who certified the tool definitions, and when; null: not pinned' }),
      }),
    ),
  })
  .openapi('RegistryServers');
export type RegistryServers = z.infer<typeof RegistryServersSchema>;

export const ServerStatusChangedSchema = z.object({ server: z.string() }).extend(StatusChangeSchema.shape).openapi('ServerStatusChanged');
export type ServerStatusChanged = z.infer<typeof ServerStatusChangedSchema>;

const Definition = z.record(z.string(), z.unknown()).openapi({ description: 'An MCP tool definition: name, title, description, inputSchema, outputSchema, annotations, _meta' });
export const ReviewedToolSchema = z
  .object({
    name: z.string(),
    change: z.enum(['added', 'changed']),
    definition: Definition,
    previous: Definition.optional().openapi({ description: 'The pinned definition it replaces (changed tools)' }),
    diff: z.array(z.string()).openapi({ description: '`-`/`+` lines of the pretty-printed definitions against the previous pin (changed tools)' }),
  })
  .openapi('ReviewedTool', { description: 'A new or changed tool definition, as the reviewer saw it before it was pinned' });

export const ServerApprovedSchema = ServerStatusChangedSchema.extend({
  pinnedTools: z.number().int().openapi({ description: 'How many tools were pinned' }),
  overriddenFindings: z.number().int().openapi({ description: 'How many scanner findings the admin accepted' }),
  reviewedBy: z.string().openapi({ description: 'The verified caller, recorded as the reviewer in the lockfile and the audit trail' }),
  reviewed: z
    .object({ tools: z.array(ReviewedToolSchema), removed: z.array(z.string()) })
    .openapi({ description: 'The new and changed definitions (with diffs against the previous pin) and the removed tools' }),
}).openapi('ServerApproved');
export type ServerApproved = z.infer<typeof ServerApprovedSchema>;

export const ServerToolsSchema = z
  .object({
    server: z.string(),
    tools: z.array(z.object({ name: z.string(), sha256: z.string(), definition: z.record(z.string(), z.unknown()).openapi({ description: 'The pinned MCP tool definition' }) })),
  })
  .openapi('ServerTools');
export type ServerTools = z.infer<typeof ServerToolsSchema>;

const LockUnreadable = z.object({ lockFile: z.string().optional(), error: z.string() }).openapi('LockUnreadable', { description: 'The registry lockfile does not load' });

const tags: [string] = ['Registry'];
const adminErrors = { 404: 'Unknown server', 409: 'Server retired in the catalog (`retired`)', 503: 'The audit store refused the record; nothing changed (`audit_unavailable`)' };

export const registryOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/registry/servers',
    operationId: 'listServers',
    tags,
    roles: ['admin', 'operator'],
    summary: 'The MCP server catalog: effective status, owner, classification and pins',
    responses: { 200: jsonResponse('The catalog', RegistryServersSchema), 503: jsonResponse('The lockfile does not load', LockUnreadable) },
  },
  ...(['quarantine', 'retire'] as const).map((action): Operation => ({
    method: 'post',
    path: `/v1/registry/servers/{server}/${action}`,
    operationId: `${action}Server`,
    tags,
    roles: ['admin'],
    summary: action === 'quarantine' ? 'Quarantine a server: workers refuse its calls until an admin approves it again' : 'Retire a server: workers refuse its calls',
    description: 'Recorded on the audit trail before it applies.',
    request: { params: ServerParamsSchema, body: jsonBody(ReasonBodySchema) },
    responses: { 200: jsonResponse('The new status', ServerStatusChangedSchema) },
    errors: adminErrors,
  })),
  {
    method: 'post',
    path: '/v1/registry/servers/{server}/approve',
    operationId: 'approveServer',
    tags,
    roles: ['admin'],
    summary: 'Approve a server: scan its tools, pin their definitions, and allow its calls',
    description:
      'Scanner findings (pattern and review-grade checks, and the model review when `registry.review.model` is set) block the approval unless `overrideFindings` says why they are accepted. The caller is recorded as the reviewer; the answer shows every new or changed definition with its diff against the previous pin.',
    request: { params: ServerParamsSchema, body: jsonBody(ApproveServerBodySchema) },
    responses: { 200: jsonResponse('Approved and pinned', ServerApprovedSchema) },
    errors: { ...adminErrors, 422: 'Scanner findings (`findings`; `details` lists them)' },
  },
  {
    method: 'get',
    path: '/v1/registry/servers/{server}/tools',
    operationId: 'listServerTools',
    tags,
    roles: ['admin', 'operator'],
    summary: "A server's pinned tool definitions and their hashes",
    request: { params: ServerParamsSchema },
    responses: { 200: jsonResponse('The pinned tools', ServerToolsSchema), 503: jsonResponse('The lockfile does not load', LockUnreadable) },
    errors: { 404: 'Unknown server, or no pins for it' },
  },
];
