// The one bridge from the core's error codes to Temporal failures: the type is the code, and whether
// Temporal may retry comes from the code's entry in the registry (src/core/errors.ts).
import { ApplicationFailure } from '@temporalio/common';
import { AirlockError, errorSpec, type ErrorCode } from '../src/core/errors.js';

export function failure(code: ErrorCode, message: string, details?: unknown[]): ApplicationFailure {
  return ApplicationFailure.create({ type: code, message, nonRetryable: !errorSpec(code).retryable, ...(details ? { details } : {}) });
}

/** A core rule's refusal as the failure Temporal carries (update validators, activities). */
export function toFailure(err: unknown): unknown {
  return err instanceof AirlockError ? failure(err.code, err.message, err.details === undefined ? undefined : [err.details]) : err;
}

/** Runs a core rule; its refusal is rethrown as a failure. */
export function asFailure<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toFailure(err);
  }
}
