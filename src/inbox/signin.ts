// Signing in to the inbox. With the dev issuer: pick a demo user (development only; `airlock token` mints the same
// tokens). With OIDC: Authorization Code + PKCE (openid-client) against `identity.oidc.issuer`, as the client
// `inbox.oidc.clientId`; the access token it returns is verified like any bearer token before a session holds it.
import express, { Router, type Request, type Response } from 'express';
import * as oidc from 'openid-client';
import { z } from 'zod';
import { AuthError, DevIssuer } from '../identity/devIssuer.js';
import { DEMO_USERS } from '../identity/users.js';
import type { ApiDeps } from '../api/deps.js';
import { CSRF_HEADER } from '../api/auth.js';
import { cookie, cookieValue, LOGIN_COOKIE, SESSION_COOKIE, type SessionStore } from './sessions.js';
import type { InboxSettings } from './settings.js';
import { sendError, sessionOf } from './session.js';

const DevBodySchema = z.strictObject({ user: z.string().min(1).max(100) });
const CALLBACK = '/inbox/auth/callback';

const originOf = (req: Request, s: InboxSettings) => (s.publicUrl ? new URL(s.publicUrl).origin : `${req.protocol}://${req.get('host')}`);

/** A sign-in POST must come from the inbox itself (no cross-site login or logout). */
function sameOrigin(req: Request, s: InboxSettings): boolean {
  const origin = req.header('origin');
  return origin === undefined || origin === originOf(req, s);
}

export function signinRoutes(deps: ApiDeps, sessions: SessionStore, settings: InboxSettings): Router {
  const { config, verifier } = deps;
  const r = Router();
  const json = express.json({ limit: '4kb' });
  let issuer: Promise<DevIssuer> | undefined;
  let client: Promise<oidc.Configuration> | undefined;

  const startSession = async (req: Request, res: Response, token: string) => {
    // The token is verified as the API will verify it on every request (signature, expiry, revocation).
    const principal = await verifier.verify(token);
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as { exp?: number }).exp;
    const ttl = Math.min(settings.sessionTtl, exp ? exp * 1000 - Date.now() : settings.sessionTtl);
    const { id, session } = await sessions.create(principal.subject, token, ttl);
    res.setHeader('Set-Cookie', cookie(SESSION_COOKIE, id, { maxAgeMs: ttl, secure: req.secure, sameSite: 'Strict' }));
    return { principal, session };
  };

  r.post('/inbox/auth/dev', json, async (req, res) => {
    if (config.identity.issuer !== 'dev') return sendError(res, 404, 'not_found', 'development sign-in exists only with the dev issuer');
    if (!sameOrigin(req, settings)) return sendError(res, 403, 'forbidden', 'sign-in must come from the inbox');
    const parsed = DevBodySchema.safeParse(req.body);
    if (!parsed.success || !Object.hasOwn(DEMO_USERS, parsed.data.user)) return sendError(res, 400, 'invalid_request', `user: one of ${Object.keys(DEMO_USERS).join(', ')}`);
    issuer ??= DevIssuer.open(config.dataDir, config.identity.tokenTtl);
    const token = await (await issuer).mint(parsed.data.user, {}, settings.sessionTtl);
    const { principal } = await startSession(req, res, token);
    res.json({ subject: principal.subject });
  });

  r.post('/inbox/auth/logout', async (req, res) => {
    const id = cookieValue(req.header('cookie'), SESSION_COOKIE);
    const session = id ? await sessions.get(id) : undefined;
    if (session && req.header(CSRF_HEADER) !== session.csrf) return sendError(res, 403, 'forbidden', `signing out needs the ${CSRF_HEADER} header`);
    if (id) await sessions.delete(id);
    res.setHeader('Set-Cookie', cookie(SESSION_COOKIE, '', { maxAgeMs: 0, secure: req.secure, sameSite: 'Strict' }));
    res.status(204).end();
  });

  const oidcClient = () => {
    const o = config.identity.oidc;
    const c = settings.oidc;
    if (config.identity.issuer !== 'oidc' || !o || !c) return undefined;
    client ??= (async () => {
      const url = new URL(o.issuer);
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      const auth = settings.clientSecret ? oidc.ClientSecretPost(settings.clientSecret) : oidc.None();
      // Plain HTTP only to a provider on this machine (development and tests).
      return oidc.discovery(url, c.clientId, undefined, auth, url.protocol === 'http:' && loopback ? { execute: [oidc.allowInsecureRequests] } : undefined);
    })().catch((err: unknown) => {
      client = undefined;
      throw err;
    });
    return client;
  };

  r.get('/inbox/auth/login', async (req, res) => {
    const pending = oidcClient();
    if (!pending) return sendError(res, 404, 'not_found', 'OIDC sign-in needs identity.issuer oidc and inbox.oidc.clientId');
    const cfg = await pending;
    const verifierCode = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await sessions.startLogin(state, { verifier: verifierCode, nonce });
    const c = settings.oidc!;
    const url = oidc.buildAuthorizationUrl(cfg, {
      redirect_uri: `${originOf(req, settings)}${CALLBACK}`,
      scope: c.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifierCode),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(c.resource ? { resource: c.resource } : {}),
      ...c.authorizationParams,
    });
    // Binds the sign-in to this browser: the callback must come back with the same state. Lax: the provider's
    // redirect back is a cross-site navigation.
    res.setHeader('Set-Cookie', cookie(LOGIN_COOKIE, state, { maxAgeMs: 600_000, secure: req.secure, sameSite: 'Lax', path: CALLBACK }));
    res.redirect(302, url.href);
  });

  r.get(CALLBACK, async (req, res) => {
    const pending = oidcClient();
    if (!pending) return sendError(res, 404, 'not_found', 'OIDC sign-in is not configured');
    const cfg = await pending;
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const bound = cookieValue(req.header('cookie'), LOGIN_COOKIE);
    const login = state && bound === state ? await sessions.finishLogin(state) : undefined;
    res.setHeader('Cache-Control', 'no-store');
    if (!login) return signinPage(res, 400, 'This sign-in is unknown or has expired. Start again.');
    try {
      const current = new URL(`${originOf(req, settings)}${req.originalUrl}`);
      const c = settings.oidc!;
      const tokens = await oidc.authorizationCodeGrant(
        cfg,
        current,
        { pkceCodeVerifier: login.verifier!, expectedState: state, expectedNonce: login.nonce! },
        c.resource ? { resource: c.resource } : undefined,
      );
      await startSession(req, res, tokens.access_token);
      res.append('Set-Cookie', cookie(LOGIN_COOKIE, '', { maxAgeMs: 0, secure: req.secure, sameSite: 'Lax', path: CALLBACK }));
      // A page that moves on, rather than a redirect: the SameSite=Strict session cookie is not sent on a
      // redirect chain a cross-site navigation started, but is on this same-site navigation.
      res.type('html').send('<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/inbox/"><title>Signed in</title><p><a href="/inbox/">Continue to the inbox</a></p>');
    } catch (err) {
      deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'inbox OIDC sign-in failed');
      const why = err instanceof AuthError ? `the provider's token was refused: ${err.message}` : 'the provider did not complete the sign-in';
      signinPage(res, 401, `Sign-in failed: ${why}.`);
    }
  });

  // Who is signed in, and how to sign in otherwise: what the page needs before anything else.
  r.get('/inbox/api/me', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const signin =
      config.identity.issuer === 'dev'
        ? { kind: 'dev', users: Object.entries(DEMO_USERS).map(([subject, u]) => ({ subject, roles: u.roles, groups: u.groups, kind: u.kind })) }
        : { kind: 'oidc', issuer: config.identity.oidc?.issuer, configured: Boolean(settings.oidc) };
    const s = await sessionOf(req, sessions, verifier);
    if ('error' in s) return void res.json({ signedIn: false, reason: s.error, signin });
    res.json({ signedIn: true, principal: s.principal, csrf: s.session.csrf, expiresAt: new Date(s.session.expiresAt).toISOString(), signin });
  });

  return r;
}

function signinPage(res: Response, status: number, message: string) {
  const text = message.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html><meta charset="utf-8"><title>Sign-in</title><link rel="stylesheet" href="/inbox/web/style.css"><main class="page"><p role="alert">${text}</p><p><a href="/inbox/">Back to sign-in</a></p></main>`,
    );
}
