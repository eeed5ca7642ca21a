// One declaration per operation: method, path, summary, who may call it, the zod schemas its route validates
// with, and what it answers. `operation()` turns it into the generator's route config, adding the security
// requirement and the error responses every route of its kind can give (all with the one error body).
import type { OpenAPIRegistry, ResponseConfig, RouteConfig, ZodRequestBody } from '@asteasolutions/zod-to-openapi';
import type { Role } from '../../identity/users.js';
import { ErrorBodySchema } from './responses.js';
import type { z } from './zod.js';

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 415 | 422 | 503;

export interface Operation extends Omit<RouteConfig, 'responses' | 'security' | 'request'> {
  operationId: string;
  summary: string;
  tags: [string];
  /**
   * Who may call: `public` (no token), or the roles the route requires (`[]`: any signed-in caller; the route
   * may still refuse by resource, as described).
   */
  roles: 'public' | Role[];
  request?: RouteConfig['request'];
  /** Success responses. */
  responses: Record<number, ResponseConfig>;
  /** Refusals this operation gives, besides the ones every route of its kind can (401, 404/405, 413, 415). */
  errors?: Partial<Record<ErrorStatus, string>>;
}

/** A JSON request body (its schema's `example`, if any, fills Swagger UI's "Try it out"). */
export const jsonBody = (schema: z.ZodType): ZodRequestBody => ({ required: true, content: { 'application/json': { schema } } });

/** A JSON response. */
export const jsonResponse = (description: string, schema: z.ZodType, extra: Omit<ResponseConfig, 'description' | 'content'> = {}): ResponseConfig => ({
  description,
  content: { 'application/json': { schema } },
  ...extra,
});

const errorResponse = (description: string): ResponseConfig => jsonResponse(description, ErrorBodySchema);

/** What any route of the API can answer, by kind of route. */
function commonErrors(o: Operation): Partial<Record<ErrorStatus, string>> {
  if (o.roles === 'public') return {};
  const hasBody = o.request?.body !== undefined;
  return {
    401: 'Missing, invalid, expired or revoked bearer token',
    ...(o.roles.length > 0 ? { 403: `Needs the ${o.roles.join(' or ')} role` } : {}),
    ...(hasBody
      ? {
          400: 'Malformed body (invalid JSON, a schema violation: `details` lists every issue, or nesting too deep)',
          413: 'Body larger than the limit',
          415: 'Body is not JSON (send Content-Type: application/json)',
        }
      : {}),
  };
}

export function operation(o: Operation): RouteConfig {
  const { roles, errors, responses, ...route } = o;
  const refusals = { ...commonErrors(o), ...errors };
  const roleText = roles === 'public' ? 'Public: no token needed.' : roles.length ? `Roles: ${roles.join(', ')}.` : 'Any signed-in caller.';
  return {
    ...route,
    description: [roleText, o.description].filter(Boolean).join(' '),
    security: roles === 'public' ? [] : [{ bearer: [] }],
    ...(roles === 'public' ? {} : { 'x-roles': roles }),
    responses: {
      ...Object.fromEntries(Object.entries(responses)),
      ...Object.fromEntries(Object.entries(refusals).map(([status, description]) => [status, errorResponse(description)])),
    },
  };
}

/** Registers operations on the document's registry. */
export const register = (registry: OpenAPIRegistry, ops: Operation[]) => ops.forEach((o) => registry.registerPath(operation(o)));
