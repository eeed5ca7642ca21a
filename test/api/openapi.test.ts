// The OpenAPI document against the app that serves it: it lints clean under Redocly's recommended rules, it
// lists exactly the routes the app registers, it is what /openapi.json serves (with the configured server URL,
// never the Host header), and /docs renders it with local assets only.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { openApiDocument, type OpenApiDocument } from '../../src/api/openapi/index.js';
import { openAuditStore } from '../../src/audit/index.js';
import type { AuditStore } from '../../src/audit/types.js';
import { loadConfig, type AirlockConfig } from '../../src/config/load.js';
import { DevIssuer } from '../../src/identity/devIssuer.js';
import { createLogger } from '../../src/log/logger.js';
import { launchBrowser } from '../helpers/browser.js';
import { testEnv } from '../helpers/stack.js';

/** A Temporal client these requests must never use. */
const noTemporal = new Proxy({} as Client, {
  get: (_t, prop) => {
    throw new Error(`Temporal client used (${String(prop)})`);
  },
});

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** What the router's layers expose (router 2): a route's path and methods, or a mounted router's path and stack. */
interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  rawPath?: string;
  slash?: boolean;
  handle: { stack?: Layer[] };
}

/** Every `METHOD /path` the app's routes answer, in OpenAPI's path syntax (`:runId` → `{runId}`). */
function appRoutes(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = `${prefix}${layer.route.path}`.replace(/:(\w+)/g, '{$1}');
      return Object.keys(layer.route.methods)
        .filter((m) => m !== '_all')
        .map((m) => `${m.toUpperCase()} ${path}`);
    }
    return layer.handle.stack ? appRoutes(layer.handle.stack, layer.slash ? prefix : `${prefix}${layer.rawPath ?? ''}`) : [];
  });
}

const docRoutes = (doc: OpenApiDocument) =>
  Object.entries(doc.paths ?? {}).flatMap(([path, item]) => METHODS.filter((m) => (item as Record<string, unknown>)[m]).map((m) => `${m.toUpperCase()} ${path}`));

/** GET with a Host header of our choosing (fetch would not send it). */
const getWithHost = (base: string, path: string, host: string) =>
  new Promise<string>((resolve, reject) => {
    const url = new URL(path, base);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });

describe('OpenAPI document and /docs', () => {
  let app: Express;
  let config: AirlockConfig;
  let server: Server;
  let base: string;
  let audit: AuditStore;
  let close: () => Promise<void>;

  before(async () => {
    config = loadConfig({ env: await testEnv() });
    const issuer = await DevIssuer.open(config.dataDir, config.identity.tokenTtl);
    audit = await openAuditStore(config);
    const deps = createApiDeps({ config, client: noTemporal, verifier: issuer, log: createLogger('silent'), audit });
    close = deps.close;
    app = createApp(deps);
    server = await new Promise<Server>((res) => {
      const s = app.listen(0, '127.0.0.1', () => res(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise<void>((res) => server?.close(() => res()));
    await close?.();
    await audit?.close();
  });

  test('lints clean under Redocly recommended rules (errors and warnings)', async () => {
    const lintConfig = await createConfig({
      extends: ['recommended'],
      // Public GETs (health, readiness, the document, the page) have no 4xx of their own; every /v1 route has 401.
      rules: { 'operation-4xx-response': 'off' },
    });
    for (const metrics of [false, true]) {
      const problems = await lintFromString({ source: JSON.stringify(openApiDocument({ metrics })), absoluteRef: 'openapi.json', config: lintConfig });
      assert.deepEqual(
        problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
        [],
      );
    }
  });

  test('every route the app registers is documented with its method, and nothing else', () => {
    // The approver inbox is a browser UI (pages, form posts, a session cookie), not part of the REST contract.
    const served = appRoutes(app.router.stack as unknown as Layer[]).filter((r) => !r.split(' ')[1]!.startsWith('/inbox'));
    const documented = docRoutes(openApiDocument({ metrics: config.observability.metrics.enabled }));
    assert.deepEqual([...new Set(served)].sort(), documented.sort());
    assert.ok(served.includes('POST /v1/registry/servers/{server}/quarantine') && served.includes('POST /codec/decode'), 'the walk reaches mounted routers');
  });

  test('/openapi.json is the generated document, with the configured server URL whatever the Host header', async () => {
    const text = await getWithHost(base, '/openapi.json', 'evil.example:666');
    assert.doesNotMatch(text, /evil\.example/);
    const served = JSON.parse(text) as OpenApiDocument;
    assert.deepEqual(served, JSON.parse(JSON.stringify(openApiDocument({ serverUrl: '/', metrics: config.observability.metrics.enabled }))));
    assert.deepEqual(served.servers, [{ url: '/' }]);
    assert.equal(served.openapi, '3.1.0');
    assert.doesNotMatch(text, /\$defs/, 'every reference is a component');
    const secured = served.paths!['/v1/runs']!.post!;
    assert.deepEqual([secured.security, served.paths!['/healthz']!.get!.security], [[{ bearer: [] }], []]);
    assert.ok(secured.responses?.['401'] && served.components?.securitySchemes?.bearer);
  });

  test('GET /docs serves Swagger UI from local assets under a self-only CSP', async () => {
    const page = await fetch(`${base}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, 'no external URL');
    assert.doesNotMatch(html, /<script>/, 'no inline script');
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(scripts, ['/docs/swagger-ui-bundle.js', '/docs/airlock-docs.js']);
    for (const src of [...scripts, ...[...html.matchAll(/<link [^>]*href="([^"]+)"/g)].map((m) => m[1]!)]) {
      const res = await fetch(`${base}${src}`);
      assert.equal(res.status, 200, src);
      if (src.endsWith('.js')) assert.match(res.headers.get('content-type') ?? '', /javascript/, src);
      await res.arrayBuffer();
    }
    const init = await (await fetch(`${base}/docs/airlock-docs.js`)).text();
    assert.match(init, /url: '\/openapi\.json'/);
    assert.match(init, /validatorUrl: null/);
    // Only the assets the page needs: the package's demo page and initializer are not served.
    assert.equal((await fetch(`${base}/docs/index.html`)).status, 404);
    assert.equal((await fetch(`${base}/docs/swagger-initializer.js`)).status, 404);
    const post = await fetch(`${base}/docs`, { method: 'POST' });
    assert.deepEqual([post.status, post.headers.get('allow')], [405, 'GET, HEAD']);
  });

  test('/docs renders every operation in Chromium, without a CSP violation or a request off the origin', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const offOrigin: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (r) => void (new URL(r.url()).origin !== base && offOrigin.push(r.url())));
      await page.goto(`${base}/docs`);
      await page.waitForSelector('.opblock', { timeout: 20_000 });
      const operations = docRoutes(openApiDocument({ metrics: config.observability.metrics.enabled })).length;
      assert.equal(await page.locator('.opblock').count(), operations);
      assert.deepEqual([problems, offOrigin], [[], []]);
    } finally {
      await browser.close();
    }
  });
});
