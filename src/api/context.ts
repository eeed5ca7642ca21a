// Per-request context: a request id (the caller's `x-request-id` or a fresh one) and a child logger
// that carries it, with one log line per finished request.
import type { Request, RequestHandler } from 'express';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.js';

declare module 'express-serve-static-core' {
  interface Request {
    log?: Logger;
  }
}

export function requestContext(log: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = (req.header('x-request-id') ?? '').slice(0, 100) || randomBytes(8).toString('hex');
    res.setHeader('x-request-id', requestId);
    const reqLog = log.child({ requestId });
    req.log = reqLog;
    const start = Date.now();
    res.on('finish', () => (req.log ?? reqLog).info({ method: req.method, path: req.path, status: res.statusCode, ms: Date.now() - start }, 'request'));
    next();
  };
}

/** The request's logger (set by `requestContext`, which runs first). */
export function logOf(req: Request): Logger {
  if (!req.log) throw new Error('requestContext middleware is not installed');
  return req.log;
}
