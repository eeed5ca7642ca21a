// One broken server (401, a redirect, a bad token endpoint) costs only its own tools and its own pin:
// planning lists the others, pinning pins the others, and only calls to it fail.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createModelGovernance } from '../../activities/model.js';
import type { AirlockConfig } from '../../src/config/load.js';
import { AgentSchema, type ServerConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { scanAndPin } from '../../src/registry/approve.js';
import { defaultSecretSource } from '../../src/registry/credentials.js';
import { LockStore } from '../../src/registry/lock.js';
import { McpPool } from '../../src/registry/pool.js';
import { shopServer } from '../helpers/shop.js';
import { startHostileHost, type HostileHost } from './sec-hostile.js';

describe('a broken server is isolated', () => {
  let host: HostileHost;
  let servers: Record<string, ServerConfig>;
  const logs: string[] = [];
  const pools: McpPool[] = [];
  before(async () => {
    host = await startHostileHost('sec-isolation-token');
    const http = (path: string, extra: Partial<Extract<ServerConfig, { transport: 'http' }>> = {}): ServerConfig => ({
      transport: 'http',
      url: `${host.origin}${path}`,
      headers: {},
      allowPrivateNetwork: true,
      classification: 'internal',
      status: 'approved',
      credentials: [],
      ...extra,
    });
    servers = {
      shop: shopServer('honest'),
      unauthorized: http('/401/mcp'),
      redirecting: http('/redirect/mcp'),
      badtoken: http('/ok/mcp', { oauth: { tokenUrl: `${host.origin}/token-bad`, clientId: 'airlock', clientSecret: { env: 'SEC_ISOLATION_SECRET' } } }),
    };
  });
  after(async () => {
    for (const p of pools) await p.close();
    await host?.close();
  });
  const setup = () => {
    const lock = new LockStore(join(mkdtempSync(join(tmpdir(), 'airlock-sec-iso-')), 'airlock.lock.json'));
    const log = createLogger('warn', 'sec-isolation', { write: (l: string) => void logs.push(l) });
    const pool = new McpPool(servers, log, { lock, requirePins: true }, { secrets: defaultSecretSource({ SEC_ISOLATION_SECRET: 'sec-isolation-secret-1234' }), allowedHosts: ['127.0.0.1'] });
    pools.push(pool);
    return { lock, pool };
  };
  const config = () => ({ servers, registry: { urlAllowlist: [] } }) as unknown as AirlockConfig;

  test('pinning several servers pins the healthy one and reports each broken one', async () => {
    const { lock, pool } = setup();
    const r = await scanAndPin(config(), pool, lock, ['shop', 'unauthorized', 'redirecting', 'badtoken'], 'tester');
    assert.ok(r.ok);
    assert.deepEqual(
      r.pinned.map((p) => p.server),
      ['shop'],
    );
    assert.deepEqual(r.failed.map((f) => f.server).sort(), ['badtoken', 'redirecting', 'unauthorized']);
    assert.match(r.failed.find((f) => f.server === 'unauthorized')!.error, /Error POSTing to endpoint: unauthorized/);
    const pins = lock.current();
    assert.ok(!(pins instanceof Error) && Object.keys(pins.servers).join() === 'shop');
  });

  test('planning offers the healthy server’s tools and leaves the broken ones out, with a warning; calls to a broken one fail', async () => {
    const { lock, pool } = setup();
    lock.pin('shop', await pool.liveTools('shop'), 'tester');
    const gov = createModelGovernance({ config: config(), pool, planners: new Map(), writer: undefined as never, audit: undefined as never });
    const agent = AgentSchema.parse({ servers: ['unauthorized', 'shop', 'redirecting', 'badtoken'] });
    const offered = await gov.offeredTools(agent);
    assert.deepEqual(
      offered.map((t) => `${t.server}.${t.tool.name}`),
      ['shop.lookup'],
    );
    for (const s of ['unauthorized', 'redirecting', 'badtoken'])
      assert.ok(
        logs.some((l) => l.includes('left out of planning') && l.includes(`"mcpServer":"${s}"`)),
        `a warning names ${s}`,
      );
    assert.deepEqual((await pool.callTool('shop', 'lookup', { orderId: 'O-1' })).content, [{ type: 'text', text: 'order O-1: shipped' }]);
    await assert.rejects(pool.callTool('unauthorized', 'lookup', { orderId: 'O-1' }), /Error POSTing to endpoint: unauthorized/);
  });
});
