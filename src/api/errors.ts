/** An error that crosses the wire: stable code, HTTP status, human reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new ApiError(400, code, message, details);
export const unauthorized = (message: string) => new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
export const gone = (code: string, message: string) => new ApiError(410, code, message);

/** ApplicationFailure types raised by the workflow's update validator → HTTP. */
export const FAILURE_STATUS: Record<string, [number, string]> = {
  NotFound: [404, 'not_found'],
  Forbidden: [403, 'forbidden'],
  AlreadyDecided: [409, 'already_decided'],
  Expired: [410, 'expired'],
  InvalidEdit: [422, 'invalid_edit'],
  DigestMismatch: [409, 'digest_mismatch'],
};
