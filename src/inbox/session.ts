// The signed-in person behind a request to the inbox's own endpoints: the session cookie, its live session, and
// the principal its token proves now (verified on every request, so expiry and revocation apply at once).
import type { Request, Response } from 'express';
import { AuthError, type TokenVerifier } from '../identity/devIssuer.js';
import type { Principal } from '../core/types.js';
import { cookieValue, SESSION_COOKIE, type Session, type SessionStore } from './sessions.js';

export async function sessionOf(req: Request, sessions: SessionStore, verifier: TokenVerifier): Promise<{ session: Session; principal: Principal } | { error: string }> {
  const id = cookieValue(req.header('cookie'), SESSION_COOKIE);
  if (!id) return { error: 'not signed in' };
  const session = await sessions.get(id);
  if (!session) return { error: 'the session has expired or was signed out; sign in again' };
  try {
    return { session, principal: await verifier.verify(session.token) };
  } catch (err) {
    if (err instanceof AuthError) return { error: `sign in again: ${err.message}` };
    throw err;
  }
}

/** The API's error body (`{error: {code, message}}`), for the inbox's own endpoints. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}
