// A limit on how deeply a JSON body nests, checked right after parsing and before any validation: schema
// validators, canonical JSON and digests walk bodies recursively, and a body nested thousands deep would
// overflow their stack (a 500). Such a body is a 400 with the reason.
import type { RequestHandler } from 'express';
import { ErrorCode } from '../core/errors.js';
import { ApiError } from './errors.js';

export const MAX_BODY_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `max` (iterative: no recursion on the attacker's value). */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

export function bodyDepthLimit(max = MAX_BODY_DEPTH): RequestHandler {
  return (req, _res, next) => {
    if (deeperThan(req.body, max)) return next(new ApiError(ErrorCode.InvalidRequest, `request body nests deeper than ${max} levels`));
    next();
  };
}
