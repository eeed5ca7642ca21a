// `POST /v1/registry/servers/:server/approve`: the verified caller is the reviewer (lockfile and answer),
// and the answer carries every new or changed definition with its diff against the previous pin.
// In process (createApp, a real token issuer and stores, a real stdio MCP server), no Temporal.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { openAuditStore } from '../../src/audit/index.js';
import type { AuditStore } from '../../src/audit/types.js';
import { loadConfig } from '../../src/config/load.js';
import { DevIssuer } from '../../src/identity/devIssuer.js';
import { createLogger } from '../../src/log/logger.js';
import { LockStore } from '../../src/registry/lock.js';
import { shopServer } from '../helpers/shop.js';
import { testEnv } from '../helpers/stack.js';

const noTemporal = new Proxy({} as Client, {
  get: (_t, prop) => {
    throw new Error(`Temporal client used (${String(prop)})`);
  },
});

describe('REST approve records the caller as the reviewer and shows what was reviewed', () => {
  const lockFile = join(mkdtempSync(join(tmpdir(), 'airlock-approve-api-')), 'airlock.lock.json');
  let server: Server;
  let base: string;
  let issuer: DevIssuer;
  let audit: AuditStore;
  let close: () => Promise<void>;

  before(async () => {
    // The previous pin: `lookup` as it was described before the upgrade.
    new LockStore(lockFile).pin('shop', [{ name: 'lookup', description: 'Looks up an order by id and returns its status.', inputSchema: { type: 'object', properties: {} } }], 'tester');
    const config = loadConfig({
      env: await testEnv(),
      overrides: (cfg) => {
        cfg.servers.shop = shopServer('v2');
        cfg.registry.lockFile = lockFile;
      },
    });
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

  test('approve answers with the changed definition, its diff and the reviewer', async () => {
    const res = await fetch(`${base}/v1/registry/servers/shop/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await issuer.mint('adam')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'vendor upgrade reviewed' }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field
    const body = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.reviewedBy, 'adam');
    assert.equal(body.reviewed.tools.length, 1);
    const [lookup] = body.reviewed.tools;
    assert.equal(lookup.name, 'lookup');
    assert.equal(lookup.change, 'changed');
    assert.equal(lookup.definition.description, 'Looks up an order by its id; returns the status and the carrier.');
    assert.equal(lookup.previous.description, 'Looks up an order by id and returns its status.');
    assert.match(lookup.diff.join('\n'), /^-\s+"description": "Looks up an order by id and returns its status\.",$/m);
    assert.match(lookup.diff.join('\n'), /^\+\s+"description": "Looks up an order by its id; returns the status and the carrier\.",$/m);
    const saved = JSON.parse(readFileSync(lockFile, 'utf8')).servers.shop;
    assert.equal(saved.reviewedBy, 'adam');
    const pinned = await audit.query({ type: 'registry.pinned', limit: 50 });
    assert.deepEqual(
      pinned.map((r) => [r.principal, (r.data as { reviewedBy?: string }).reviewedBy]),
      [['adam', 'adam']],
    );
  });
});
