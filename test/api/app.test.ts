// The HTTP contract at the edge, in process: createApp with its dependencies built once, a real token
// issuer and real stores, and no Temporal (none of these requests reaches it).
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

/** A Temporal client these requests must never use. */
const noTemporal = new Proxy({} as Client, {
  get: (_t, prop) => {
    throw new Error(`Temporal client used (${String(prop)})`);
  },
});

describe('API edge: authentication, routing and error bodies', () => {
  let server: Server;
  let base: string;
  let issuer: DevIssuer;
  let audit: AuditStore;
  let close: () => Promise<void>;
  let agents: string[];

  before(async () => {
    const config = loadConfig({ env: await testEnv() });
    agents = Object.keys(config.agents);
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
    if (o.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: o.body });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string; details?: unknown } } & Record<string, unknown> };
  };

  test('health is public; /v1 needs a valid bearer token, also for unknown paths', async () => {
    assert.deepEqual(await call('GET', '/healthz'), { status: 200, body: { status: 'ok' } });
    assert.deepEqual(await call('GET', '/v1/runs/run-x'), { status: 401, body: { error: { code: 'unauthorized', message: 'missing bearer token' } } });
    assert.equal((await call('GET', '/v1/nope', { headers: { authorization: 'Bearer not-a-jwt' } })).body.error?.code, 'unauthorized');
    assert.deepEqual(await call('GET', '/v1/nope', { user: 'alice' }), { status: 404, body: { error: { code: 'not_found', message: 'route GET /v1/nope not found' } } });
    assert.deepEqual(await call('GET', '/nope'), { status: 404, body: { error: { code: 'not_found', message: 'route GET /nope not found' } } });
  });

  test('roles: readers and admins', async () => {
    assert.deepEqual(await call('GET', '/v1/policy', { user: 'alice' }), {
      status: 403,
      body: { error: { code: 'forbidden', message: 'reading the policy set needs the admin or operator role' } },
    });
    assert.equal((await call('GET', '/v1/policy', { user: 'olivia' })).status, 200);
    assert.equal((await call('POST', '/v1/registry/servers/crm/quarantine', { user: 'olivia', body: '{"reason":"x"}' })).body.error?.message, 'changing the registry needs the admin role');
    assert.deepEqual(await call('POST', '/v1/registry/servers/nope/quarantine', { user: 'adam', body: '{"reason":"x"}' }), {
      status: 404,
      body: { error: { code: 'not_found', message: 'server nope not found' } },
    });
  });

  test('bodies: invalid JSON, schema violations, unknown agents, too large, unsupported charset', async () => {
    assert.deepEqual(await call('POST', '/v1/runs', { user: 'alice', body: '{' }), { status: 400, body: { error: { code: 'invalid_json', message: 'request body is not valid JSON' } } });
    const invalid = await call('POST', '/v1/runs', { user: 'alice', body: '{"agent":"refund-assistant"}' });
    assert.deepEqual([invalid.status, invalid.body.error?.code, invalid.body.error?.message], [400, 'invalid_request', 'input: Invalid input: expected record, received undefined']);
    assert.ok(Array.isArray(invalid.body.error?.details));
    assert.deepEqual(await call('POST', '/v1/runs', { user: 'alice', body: '{"agent":"constructor","input":{}}' }), {
      status: 400,
      body: { error: { code: 'unknown_agent', message: `unknown agent "constructor" (known: ${agents.join(', ')})` } },
    });
    assert.equal((await call('POST', '/v1/runs', { user: 'bob', body: '{"agent":"x","input":{}}' })).status, 403);
    const big = await call('POST', '/v1/runs', { user: 'alice', body: JSON.stringify({ agent: 'refund-assistant', input: { x: 'a'.repeat(300_000) } }) });
    assert.deepEqual(big, { status: 413, body: { error: { code: 'too_large', message: 'request body is larger than 256kb' } } });
    const latin = await call('POST', '/v1/runs', { user: 'alice', body: '{}', headers: { 'content-type': 'application/json; charset=latin1' } });
    assert.deepEqual([latin.status, latin.body.error?.code], [415, 'bad_request']);
  });
});
