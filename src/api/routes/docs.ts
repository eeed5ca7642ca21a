// GET /docs: Swagger UI over /openapi.json, served from the installed swagger-ui-dist package (no CDN, works
// offline). Its scripts are files (ours included), so the page's Content-Security-Policy allows only 'self'.
import express, { Router, type RequestHandler } from 'express';
import { createRequire } from 'node:module';

/** swagger-ui-dist's own directory (`getAbsoluteFSPath`; its index module would load the whole bundle into Node). */
const SWAGGER_UI_DIR: string = (createRequire(import.meta.url)('swagger-ui-dist/absolute-path.js') as () => string)();

/** The only files of the package the page needs (its own index.html and initializer point at a demo API). */
const ASSETS = new Set(['/swagger-ui.css', '/swagger-ui-bundle.js', '/favicon-32x32.png', '/favicon-16x16.png']);

/**
 * Only 'self', plus: the stylesheet's icons are data: URIs, and the one <style> element the bundle adds is allowed by
 * its hash (test/api/openapi.test.ts renders the page in Chromium and fails on any violation, so an upgrade that
 * changes it shows). Styles React sets through the DOM are not subject to CSP.
 */
const CSP = [
  "default-src 'self'",
  "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Airlock API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/airlock-docs.js"></script>
  </body>
</html>
`;

/** validatorUrl: null, or the page would send the document to validator.swagger.io for its badge. */
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const secured: RequestHandler = (_req, res, next) => {
  res.set({ 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
  next();
};

export function docsRoutes(): Router {
  const r = Router();
  const assets = express.static(SWAGGER_UI_DIR, { index: false, fallthrough: true });
  // Static files, not operations: middleware, so the OpenAPI document lists /docs alone.
  r.use('/docs', secured, (req, res, next) => {
    if (req.path === '/airlock-docs.js' && (req.method === 'GET' || req.method === 'HEAD')) return void res.type('text/javascript').send(INIT);
    if (!ASSETS.has(req.path)) return next();
    assets(req, res, next);
  });
  r.get('/docs', secured, (_req, res) => void res.type('html').send(PAGE));
  return r;
}
