// The network guard on every URL fetched for an HTTP MCP server: its MCP URL, its OAuth token
// endpoint, and redirects; addresses that embed a non-public IPv4 address are non-public.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { defaultSecretSource } from '../../src/registry/credentials.js';
import { isPrivateAddress } from '../../src/registry/netguard.js';
import { McpPool, RegistryError } from '../../src/registry/pool.js';
import { startHostileHost, type HostileHost } from './sec-hostile.js';

const SECRET = `sec-netguard-secret-${process.pid}-7c1d`;

describe('addresses that reach a non-public IPv4 address through IPv6 are non-public', () => {
  test('NAT64, IPv4-compatible, IPv4-mapped (any spelling), 6to4 and Teredo forms of private, loopback, link-local and metadata addresses', () => {
    for (const a of [
      '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
      '64:ff9b::169.254.169.254',
      '64:ff9b::7f00:1',
      '64:ff9b:1::a00:1', // local-use NAT64
      '::169.254.169.254', // IPv4-compatible
      '::a9fe:a9fe',
      '::7f00:1',
      '::ffff:7f00:1', // IPv4-mapped, as URLs and resolvers write it
      '::ffff:a9fe:a9fe',
      '::ffff:0:a00:1', // SIIT (RFC 6145)
      '2002:a9fe:a9fe::1', // 6to4 of 169.254.169.254
      '2002:c0a8:101::1', // 6to4 of 192.168.1.1
      '2001:0:4136:e378:8000:63bf:80ff:fffe', // Teredo, client 127.0.0.1
      '2001:0:a00:1::1', // Teredo, server 10.0.0.1
      '198.18.0.1',
      'fec0::1',
      '[::1]',
      'fe80::1%eth0',
      'not-an-address',
    ])
      assert.equal(isPrivateAddress(a), true, a);
    // The same forms around a public address stay public.
    for (const a of ['64:ff9b::808:808', '::ffff:808:808', '2002:808:808::1', '2001:0:808:808::f7f7:f7f7', '2606:4700::1111', '8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
  });
});

describe('every URL fetched for a server is guarded', () => {
  let host: HostileHost;
  const pools: McpPool[] = [];
  before(async () => {
    host = await startHostileHost('sec-netguard-token-x');
  });
  after(async () => {
    for (const p of pools) await p.close();
    await host?.close();
  });
  const pool = (cfg: Partial<Extract<ServerConfig, { transport: 'http' }>>, allowedHosts: string[]) => {
    const server: ServerConfig = { transport: 'http', url: `${host.origin}/ok/mcp`, headers: {}, allowPrivateNetwork: true, classification: 'internal', status: 'approved', credentials: [], ...cfg };
    const p = new McpPool({ guarded: server }, createLogger('silent'), undefined, { secrets: defaultSecretSource({ SEC_NETGUARD_SECRET: SECRET }), allowedHosts });
    pools.push(p);
    return p;
  };
  const oauth = (tokenPath: string, origin = host.origin) => ({ tokenUrl: `${origin}${tokenPath}`, clientId: 'airlock', clientSecret: { env: 'SEC_NETGUARD_SECRET' } });
  const rejects = async (p: McpPool, re: RegExp) =>
    assert.rejects(p.liveTools('guarded'), (e: Error) => {
      assert.ok(e instanceof RegistryError, `${e.name}: ${e.message}`);
      assert.match(e.message, re);
      assert.ok(!e.message.includes(SECRET));
      return true;
    });

  test('a server whose MCP URL is refused never has its token endpoint contacted', async () => {
    const before = host.hits.get('/token') ?? 0;
    // Not on the allowlist.
    await rejects(pool({ oauth: oauth('/token') }, ['example.com']), /host 127\.0\.0\.1 is not in registry\.allowedHosts/);
    // On the allowlist, but loopback without the server's permission.
    await rejects(pool({ oauth: oauth('/token'), allowPrivateNetwork: false }, ['127.0.0.1']), /resolves to a private address/);
    assert.equal(host.hits.get('/token') ?? 0, before, 'the client secret was never posted');
  });

  test('the token endpoint itself must pass the guard: an unlisted host and a redirect are refused, and nothing follows them', async () => {
    const before = { token: host.hits.get('/token') ?? 0, landing: host.hits.get('/landing') ?? 0 };
    const other = host.origin.replace('127.0.0.1', 'localhost');
    await rejects(pool({ oauth: oauth('/token', other) }, ['127.0.0.1']), /OAuth token endpoint: host localhost is not in registry\.allowedHosts/);
    await rejects(pool({ oauth: oauth('/token-redirect') }, ['127.0.0.1']), /credentials: token endpoint .* unreachable: .*redirect/);
    assert.equal(host.hits.get('/token') ?? 0, before.token);
    assert.equal(host.hits.get('/landing') ?? 0, before.landing, 'the redirect was not followed');
    // A server and token endpoint that pass the guard work.
    const ok = pool({ oauth: oauth('/token') }, ['127.0.0.1']);
    assert.deepEqual(
      (await ok.liveTools('guarded')).map((t) => t.name),
      ['lookup'],
    );
    assert.equal(host.hits.get('/token') ?? 0, before.token + 1);
  });

  test('an MCP endpoint that redirects is refused; the redirect target receives nothing', async () => {
    const before = host.hits.get('/landing') ?? 0;
    const p = pool({ url: `${host.origin}/redirect/mcp`, credentials: [{ from: { env: 'SEC_NETGUARD_SECRET' }, inject: { header: 'x-api-key', prefix: '' } }] }, ['127.0.0.1']);
    await assert.rejects(p.liveTools('guarded'), (e: Error) => {
      assert.match(e.message, /redirect/);
      assert.ok(!e.message.includes(SECRET));
      return true;
    });
    assert.equal(host.hits.get('/landing') ?? 0, before);
  });
});
