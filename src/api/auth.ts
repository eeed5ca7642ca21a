// Who is calling: the bearer token proves a principal, and the role checks every route asks.
// Identity always comes from the token, never from a request body.
import type { Request, RequestHandler } from 'express';
import { AuthError, type TokenVerifier } from '../identity/devIssuer.js';
import { hasRole, type Role } from '../identity/users.js';
import type { Principal } from '../core/types.js';
import { logOf } from './context.js';
import { forbidden, unauthorized } from './errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Verifies `Authorization: Bearer <token>` and sets `req.principal`; a missing or invalid token is a 401. */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, _res, next) => {
    const m = /^Bearer (.+)$/.exec(req.header('authorization') ?? '');
    if (!m) throw unauthorized('missing bearer token');
    let principal: Principal;
    try {
      principal = await verifier.verify(m[1]!);
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
