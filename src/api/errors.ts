// The API's one error family and its one error middleware. Every error that crosses the wire carries a
// code of the core registry (src/core/errors.ts), which alone decides its HTTP status and wire code.
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { AirlockError, ERRORS, ErrorCode, isErrorCode } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { formatBytes, notJson } from './http.js';

/** An error that crosses the wire: a registry code (HTTP status, wire code), a message for a person, optional details. */
export class ApiError extends AirlockError {
  /** The code's HTTP status, unless the HTTP layer itself (the body parser) named a more precise 4xx. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, details?: unknown, options?: { status?: number; cause?: unknown }) {
    super(code, message, details, options);
    this.status = options?.status ?? ERRORS[code].http;
  }

  /** The stable `error.code` of the REST contract. */
  get wire(): string {
    return this.spec.wire;
  }
}

export const unauthorized = (message: string) => new ApiError(ErrorCode.Unauthorized, message);
export const forbidden = (message: string) => new ApiError(ErrorCode.Forbidden, message);
export const notFound = (what: string) => new ApiError(ErrorCode.NotFound, `${what} not found`);

/**
 * The refusal of a decision by the workflow's update validator or handler, which throws an
 * ApplicationFailure typed with a registry code; a type outside the registry is still a refusal.
 */
export function decisionRefusal(err: unknown): ApiError | undefined {
  if (!(err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)) return undefined;
  const type = err.cause.type;
  return new ApiError(isErrorCode(type) ? type : ErrorCode.DecisionRefused, err.cause.message, undefined, { cause: err });
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof z.ZodError) {
    const issue = err.issues[0]!;
    const message = `${issue.path.length ? issue.path.join('.') + ': ' : ''}${issue.message}`;
    return new ApiError(
      ErrorCode.InvalidRequest,
      message,
      err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  // body-parser's errors carry a `type` and an HTTP status.
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e.type === 'entity.parse.failed') return new ApiError(ErrorCode.InvalidJson, 'request body is not valid JSON');
  if (e.type === 'entity.too.large') return new ApiError(ErrorCode.TooLarge, typeof e.limit === 'number' ? `request body is larger than ${formatBytes(e.limit)}` : 'request body is too large');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new ApiError(ErrorCode.BadRequest, e.message ?? 'bad request', undefined, { status: e.status });
  return new ApiError(ErrorCode.InternalError, 'internal error');
}

/** The one error middleware: every error becomes `{ error: { code, message, details? } }` with its status. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    // A schema that found no body at all: the body was not JSON (or absent), which is the caller's mistake to name.
    const e = (err instanceof z.ZodError && err.issues.some((i) => i.path.length === 0) && notJson(req)) || toApiError(err);
    if (e.status >= 500) (req.log ?? log).error({ err }, 'request failed');
    // A response already under way (a streamed export) cannot change its status: Express ends the connection.
    if (res.headersSent) return next(err);
    res.status(e.status).json({ error: { code: e.wire, message: e.message, ...(e.details ? { details: e.details } : {}) } });
  };
}
