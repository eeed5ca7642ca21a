// The approver inbox at /inbox: sign-in, pending approvals, decisions, run pages (served by the API, same origin).
// The page is Preact + htm as plain ES modules from node_modules, with no build step and nothing from a CDN; it
// talks to the /v1 REST API with the session cookie, which this router resolves for `authenticate` (src/api/auth.ts).
import { Router, type RequestHandler } from 'express';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiDeps } from '../api/deps.js';
import { inboxApiRoutes } from './api.js';
import { cookieValue, SESSION_COOKIE, SessionStore } from './sessions.js';
import { inboxSettings } from './settings.js';
import { signinRoutes } from './signin.js';

const WEB = join(dirname(fileURLToPath(import.meta.url)), 'web');
const WEB_FILES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.svg': 'image/svg+xml' };

/** Only this origin: no inline script or style, no framing, no CDN. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Preact, its hooks and htm as ES modules; the hooks' bare `preact` import points at the served file (no import map, which CSP would count as inline script). */
function vendorModules(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const read = (file: string) => readFileSync(file, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
  return {
    'preact.js': read(join(dirname(require.resolve('preact')), 'preact.module.js')),
    'hooks.js': read(join(dirname(require.resolve('preact/hooks')), 'hooks.module.js')).replace(/from\s*["']preact["']/g, 'from"./preact.js"'),
    'htm.js': read(join(dirname(require.resolve('htm')), 'htm.module.js')),
  };
}

export function inboxRoutes(deps: ApiDeps): Router {
  const settings = inboxSettings(deps.config);
  const sessions = new SessionStore(deps.config);
  const vendor = vendorModules();
  const r = Router();
  let closeHooked = false;

  // The /v1 API with the session cookie: the session's token for `authenticate`, or why there is none.
  r.use('/v1', (async (req, _res, next) => {
    if (!closeHooked) {
      closeHooked = true;
      // The sessions' database connection goes with the server (the API's deps close their own tables).
      (req.socket as { server?: { once(e: string, f: () => void): void } }).server?.once('close', () => void sessions.close());
    }
    const id = req.header('authorization') === undefined ? cookieValue(req.header('cookie'), SESSION_COOKIE) : undefined;
    if (id) {
      const s = await sessions.get(id);
      req.cookieSession = s ? { token: s.token, csrf: s.csrf } : { error: 'the session has expired or was signed out; sign in again' };
    }
    next();
  }) as RequestHandler);

  r.use('/inbox', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  });

  r.use(signinRoutes(deps, sessions, settings), inboxApiRoutes(deps, sessions, settings));

  // Non-strict routing matches `/inbox` and `/inbox/` alike: only the bare path moves to the slash.
  r.get('/inbox', (req, res) => {
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) return res.redirect(301, '/inbox/');
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(readFileSync(join(WEB, 'index.html'), 'utf8'));
  });
  r.get('/inbox/vendor/:file', (req, res, next) => {
    const body = vendor[req.params.file];
    if (body === undefined) return next();
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('text/javascript').send(body);
  });
  r.get('/inbox/web/{*path}', (req, res, next) => {
    const rel = (req.params as { path: string[] }).path.join('/');
    const ext = /\.[a-z]+$/.exec(rel)?.[0] ?? '';
    if (!/^[a-z0-9/_-]+\.[a-z]+$/.test(rel) || rel.includes('..') || !WEB_FILES[ext]) return next();
    let body: string;
    try {
      body = readFileSync(join(WEB, rel), 'utf8');
    } catch {
      return next();
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.type(WEB_FILES[ext]!).send(body);
  });
  return r;
}
