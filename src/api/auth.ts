// Who is calling: the bearer token proves a principal, and the role checks every route asks.
// Identity always comes from the token, never from a request body. The approver inbox's session cookie
// (src/inbox/sessions.ts) carries the same kind of token, kept server-side; the inbox router resolves the
// cookie before /v1, and a cookie-authenticated request that changes something must echo the session's CSRF token.
import type { Request, RequestHandler } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { AuthError, type TokenVerifier } from '../identity/devIssuer.js';
import { hasRole, type Role } from '../identity/users.js';
import type { Principal } from '../core/types.js';
import { logOf } from './context.js';
import { forbidden, unauthorized } from './errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** Set by the inbox router when the request carries its session cookie: the session's token, or why there is none. */
    cookieSession?: CookieSession;
  }
}

/** A resolved inbox session: the verified token it holds and its CSRF token, or why it is refused. */
export type CookieSession = { token: string; csrf: string } | { error: string };

/** The header a cookie-authenticated request that changes something must carry (the session's CSRF token). */
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sameSecret = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The token a request proves itself with: the bearer token, else the inbox session's (CSRF-checked for writes). */
function tokenOf(req: Request): string {
  const header = req.header('authorization');
  const session = req.cookieSession;
  if (header === undefined && session) {
    if ('error' in session) throw unauthorized(session.error);
    if (!SAFE_METHODS.has(req.method) && !sameSecret(req.header(CSRF_HEADER) ?? '', session.csrf))
      throw forbidden(`a request with the session cookie that changes something needs the ${CSRF_HEADER} header`);
    return session.token;
  }
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) throw unauthorized('missing bearer token');
  return m[1]!;
}

/**
 * Verifies `Authorization: Bearer <token>` (or, without that header, the inbox session's token) and sets
 * `req.principal`; a missing or invalid token is a 401, a cookie-authenticated write without the CSRF header a 403.
 */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, _res, next) => {
    const token = tokenOf(req);
    let principal: Principal;
    try {
      principal = await verifier.verify(token);
    } catch (err) {
      if (err instanceof AuthError) throw unauthorized(err.message);
      throw err;
    }
    req.principal = principal;
    req.log = logOf(req).child({ principal: principal.subject });
    next();
  };
}

/** The verified caller (routes run behind `authenticate`). */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw unauthorized('missing bearer token');
  return req.principal;
}

/** The caller, if they hold one of the roles; else a 403 with the reason. */
export function requireRole(req: Request, roles: readonly Role[], reason: string): Principal {
  const p = principalOf(req);
  if (!hasRole(p, ...roles)) throw forbidden(reason);
  return p;
}

/** Operators and admins may read the policy set, the registry, the readiness report and the audit trail. */
export function requireReader(req: Request, what: string): Principal {
  return requireRole(req, ['admin', 'operator'], `reading ${what} needs the admin or operator role`);
}
