// The HTTP edges a newcomer meets first, against the real app (createApp with its real dependencies, no
// Temporal: none of these requests reaches it): a body that is not JSON, a method the path does not
// support, and a body over the limit.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { openAuditStore } from '../../src/audit/index.js';
import type { AuditStore } from '../../src/audit/types.js';
import { loadConfig } from '../../src/config/load.js';
import { DevIssuer } from '../../src/identity/devIssuer.js';
import { createLogger } from '../../src/log/logger.js';
import { testEnv } from '../helpers/stack.js';

const noTemporal = new Proxy({} as Client, {
  get: (_t, prop) => {
    throw new Error(`Temporal client used (${String(prop)})`);
  },
});

describe('API HTTP edges: 415, 405 and 413', () => {
  let server: Server;
  let base: string;
  let issuer: DevIssuer;
  let audit: AuditStore;
  let close: () => Promise<void>;

  before(async () => {
    const config = loadConfig({ env: await testEnv() });
    issuer = await DevIssuer.open(config.dataDir, config.identity.tokenTtl);
    audit = await openAuditStore(config);
    const deps = createApiDeps({ config, client: noTemporal, verifier: issuer, log: createLogger('silent'), audit });
    close = deps.close;
    server = await new Promise<Server>((res) => {
      const s = createApp(deps).listen(0, '127.0.0.1', () => res(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise<void>((res) => server?.close(() => res()));
    await close?.();
    await audit?.close();
  });

  const call = async (method: string, path: string, o: { user?: string; body?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.user) headers.authorization = `Bearer ${await issuer.mint(o.user)}`;
    const res = await fetch(`${base}${path}`, { method, headers, body: o.body });
    const text = await res.text();
    return { status: res.status, allow: res.headers.get('allow'), body: (text ? JSON.parse(text) : undefined) as { error?: { code: string; message: string } } };
  };
  const START = JSON.stringify({ agent: 'refund-assistant', input: { customerId: 'C-1001', invoiceId: 'INV-2001', message: 'hi' } });

  test('a body that is not JSON, or none, is a 415 naming application/json', async () => {
    const form = await call('POST', '/v1/runs', { user: 'alice', body: START, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.deepEqual(form, {
      status: 415,
      allow: null,
      body: { error: { code: 'unsupported_media_type', message: 'request body must be JSON: send it with Content-Type application/json (got Content-Type application/x-www-form-urlencoded)' } },
    });
    const text = await call('POST', '/v1/approvals/run-x.a1/decision', { user: 'bob', body: '{"decision":"approve"}', headers: { 'content-type': 'text/plain' } });
    assert.deepEqual([text.status, text.body.error?.code], [415, 'unsupported_media_type']);
    assert.match(text.body.error!.message, /Content-Type application\/json \(got Content-Type text\/plain\)/);
    const none = await call('POST', '/v1/runs', { user: 'alice' });
    assert.deepEqual([none.status, none.body.error?.message], [415, 'request body must be JSON: send it with Content-Type application/json (got no Content-Type)']);
    // JSON bodies still reach the routes' validation.
    const invalid = await call('POST', '/v1/runs', { user: 'alice', body: '{"agent":"refund-assistant"}', headers: { 'content-type': 'application/json' } });
    assert.deepEqual([invalid.status, invalid.body.error?.code], [400, 'invalid_request']);
  });

  test('a method the path does not support is a 405 with Allow; an unknown path stays 404', async () => {
    const get = await call('GET', '/v1/approvals/run-abc.a1/decision', { user: 'bob' });
    assert.deepEqual(get, {
      status: 405,
      allow: 'POST',
      body: { error: { code: 'method_not_allowed', message: 'GET is not supported on /v1/approvals/run-abc.a1/decision; use POST' } },
    });
    assert.deepEqual((await call('GET', '/v1/runs/run-abc/cancel', { user: 'alice' })).allow, 'POST');
    const del = await call('DELETE', '/v1/runs/run-abc', { user: 'alice' });
    assert.deepEqual([del.status, del.allow, del.body.error?.code], [405, 'GET, HEAD', 'method_not_allowed']);
    const revocations = await call('PUT', '/v1/revocations', { user: 'adam' });
    assert.deepEqual([revocations.status, revocations.allow], [405, 'GET, HEAD, POST']);
    const health = await call('POST', '/healthz');
    assert.deepEqual([health.status, health.allow], [405, 'GET, HEAD']);
    // Authentication still comes first under /v1, and a path nothing serves is not found.
    assert.equal((await call('GET', '/v1/runs/run-abc/cancel')).status, 401);
    assert.deepEqual(await call('GET', '/v1/nope', { user: 'alice' }), { status: 404, allow: null, body: { error: { code: 'not_found', message: 'route GET /v1/nope not found' } } });
  });

  test('a body over the limit is a 413 that states the limit', async () => {
    const big = JSON.stringify({ agent: 'refund-assistant', input: { x: 'a'.repeat(300_000) } });
    assert.deepEqual(await call('POST', '/v1/runs', { user: 'alice', body: big, headers: { 'content-type': 'application/json' } }), {
      status: 413,
      allow: null,
      body: { error: { code: 'too_large', message: 'request body is larger than 256kb' } },
    });
  });
});
