// An HTTP MCP server that only accepts OAuth access tokens for its own audience. Airlock gets them with
// the client-credentials flow from a real OpenID Provider, per server, and never leaks the secret.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ServerConfig } from '../../src/config/schema.js';
import { OidcVerifier } from '../../src/identity/oidc.js';
import { createLogger } from '../../src/log/logger.js';
import { defaultSecretSource } from '../../src/registry/credentials.js';
import { McpPool, RegistryError } from '../../src/registry/pool.js';
import { OTHER_RESOURCE, SECRET, signingKey, startProvider, type RunningProvider } from '../helpers/oidcProvider.js';

/** A stateless Streamable HTTP MCP server behind bearer-token verification (audience `other-api`). */
async function startProtectedServer(verifier: OidcVerifier): Promise<{ url: string; seen: string[]; refused: number; close(): Promise<void> }> {
  const seen: string[] = [];
  let refused = 0;
  const server: Server = createServer(async (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    let subject: string;
    try {
      subject = (await verifier.verify(token ?? '')).subject;
    } catch {
      refused++;
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    seen.push(token!);
    const mcp = new McpServer({ name: 'protected', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'Says who called.', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => ({
      content: [{ type: 'text', text: `caller ${subject}` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    seen,
    get refused() {
      return refused;
    },
    close: () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())),
  };
}

describe('OAuth client credentials for HTTP MCP servers', () => {
  let op: RunningProvider;
  let mcp: Awaited<ReturnType<typeof startProtectedServer>>;
  const pools: McpPool[] = [];
  before(async () => {
    op = await startProvider((await signingKey('k1')).jwk);
    mcp = await startProtectedServer(await OidcVerifier.create({ issuer: op.issuer, audience: 'other-api' }));
  });
  after(async () => {
    for (const p of pools) await p.close();
    await mcp?.close();
    await op?.close();
  });
  const pool = (secretEnv: Record<string, string>, resource = OTHER_RESOURCE) => {
    const cfg: ServerConfig = {
      transport: 'http',
      url: mcp.url,
      headers: {},
      allowPrivateNetwork: true,
      classification: 'internal',
      status: 'approved',
      credentials: [],
      oauth: { tokenUrl: `${op.issuer}/token`, clientId: 'svc-reporter', clientSecret: { env: 'PROTECTED_MCP_SECRET' }, resource, scope: 'api' },
    };
    const p = new McpPool({ protected: cfg }, createLogger('silent'), undefined, { secrets: defaultSecretSource(secretEnv) });
    pools.push(p);
    return p;
  };

  test('the token is obtained for the server audience and sent on every request', async () => {
    const from = mcp.seen.length; // what this test's requests carried, whatever ran before it
    const p = pool({ PROTECTED_MCP_SECRET: SECRET });
    assert.deepEqual(
      (await p.liveTools('protected')).map((t) => t.name),
      ['whoami'],
    );
    const res = await p.callTool('protected', 'whoami', {});
    assert.deepEqual(res.content, [{ type: 'text', text: 'caller svc-reporter' }]);
    const mine = mcp.seen.slice(from);
    assert.ok(mine.length >= 2, 'every MCP request carried the bearer token');
    assert.equal(new Set(mine).size, 1, 'the token was cached, not fetched per request');
  });

  test('a wrong secret or a token for another audience fails closed, without leaking the secret', async () => {
    const wrong = pool({ PROTECTED_MCP_SECRET: 'not-the-secret-5b1f' });
    await assert.rejects(wrong.liveTools('protected'), (e: Error) => {
      assert.ok(e instanceof RegistryError);
      assert.match(e.message, /"protected" credentials: token endpoint .*\/token refused client svc-reporter: HTTP 401/);
      assert.ok(!e.message.includes('not-the-secret-5b1f'));
      return true;
    });
    // A token for the Airlock API's audience is refused by the MCP server (no token pass-through).
    const other = pool({ PROTECTED_MCP_SECRET: SECRET }, 'urn:airlock:api');
    const before = mcp.refused;
    await assert.rejects(other.liveTools('protected'));
    assert.ok(mcp.refused > before, 'the MCP server refused the token');
    await assert.rejects(pool({}).liveTools('protected'), /secret variable PROTECTED_MCP_SECRET is not set/);
  });
});
