// HTTP edges the routes never see: a body that is not JSON (415), a method the path does not support
// (405 with `Allow`), and the body size limit the 413 names.
import type { Express, Request, RequestHandler } from 'express';
import { ErrorCode } from '../core/errors.js';
import { ApiError, notFound } from './errors.js';

/** The JSON body limit of the /v1 routes (the codec endpoint has its own). */
export const JSON_BODY_LIMIT = '256kb';

/** A byte count as the body parser's limits are written: `262144` → `256kb`. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['gb', 1024 ** 3],
    ['mb', 1024 ** 2],
    ['kb', 1024],
  ] as const)
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  return `${n} bytes`;
}

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The JSON parser skips a body of another type (and there is nothing to parse without one), so a route
 * would report its schema's "expected object, received undefined". Such a request is a 415 naming the
 * type the API expects; `undefined` when the request had a JSON body to parse.
 */
export function notJson(req: Request): ApiError | undefined {
  if (!WITH_BODY.has(req.method) || req.body !== undefined) return undefined;
  const type = req.header('content-type');
  const got = type ? `Content-Type ${type.split(';')[0]!.trim()}` : 'no Content-Type';
  return new ApiError(ErrorCode.UnsupportedMediaType, `request body must be JSON: send it with Content-Type application/json (got ${got})`);
}

/** What the router's layers offer (router 2): `match` is pure and returns the matched prefix. */
interface Layer {
  match(path: string): false | { path: string };
  route?: { methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** The methods the app's routes answer on `path`, walking the routers it mounts. */
export function allowedMethods(stack: Layer[], path: string): Set<string> {
  const out = new Set<string>();
  for (const layer of stack) {
    const matched = layer.match(path);
    if (!matched) continue;
    if (layer.route) {
      for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') out.add(m.toUpperCase());
    } else if (layer.handle.stack) {
      for (const method of allowedMethods(layer.handle.stack, path.slice(matched.path.length) || '/')) out.add(method);
    }
  }
  if (out.has('GET')) out.add('HEAD');
  return out;
}

/** The last route: a path some route serves with other methods is a 405 with `Allow`; any other a 404. */
export function unmatchedRoute(app: Express): RequestHandler {
  return (req, res, next) => {
    const allowed = [...allowedMethods(app.router.stack as unknown as Layer[], req.path)].sort();
    if (allowed.length === 0) return next(notFound(`route ${req.method} ${req.path}`));
    res.setHeader('Allow', allowed.join(', '));
    next(new ApiError(ErrorCode.MethodNotAllowed, `${req.method} is not supported on ${req.path}; use ${allowed.join(', ')}`));
  };
}
