// A canary secret configured as a server credential (an env variable for a stdio server, a request
// header and an OAuth client secret for HTTP servers) must never come back out, whatever the servers
// do with it: a 401 echoing it, a bad token endpoint answer quoting it, a redirect carrying it, a
// refused connection, a tool error repeating it, a process printing it on stderr. Checked in the run
// view, the audit records, the pool's thrown errors and results, and the logs.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServerConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { defaultSecretSource } from '../../src/registry/credentials.js';
import { LockStore } from '../../src/registry/lock.js';
import { McpPool } from '../../src/registry/pool.js';
import type { RunView } from '../../src/core/types.js';
import { shopPolicyDir } from '../helpers/shop.js';
import { freePort, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';
import { startHostileHost, type HostileHost } from '../registry/sec-hostile.js';

const CANARY = `canary-${process.pid}-${Date.now()}-c4n4ry`;
const CANARY_TOKEN = `token-${process.pid}-${Date.now()}-t0k3n`;
const SECRETS = { SEC_CANARY: CANARY };
const STDIO_LEAK = "process.stderr.write('my token is ' + process.env.LEAKY_TOKEN + '\\n'); setTimeout(() => process.exit(1), 100);";

const headerCred: ServerConfig['credentials'] = [{ from: { env: 'SEC_CANARY' }, inject: { header: 'x-api-key', prefix: '' } }];
const oauthWith = (host: HostileHost, path: string) => ({ tokenUrl: `${host.origin}${path}`, clientId: 'airlock', clientSecret: { env: 'SEC_CANARY' } });

function catalog(host: HostileHost, closedPort: number): Record<string, ServerConfig> {
  const http = (path: string, extra: Partial<Extract<ServerConfig, { transport: 'http' }>>): ServerConfig => ({
    transport: 'http',
    url: `${host.origin}${path}`,
    headers: {},
    allowPrivateNetwork: true,
    classification: 'internal',
    status: 'approved',
    credentials: headerCred,
    ...extra,
  });
  return {
    'leaky-401': http('/401/mcp', {}),
    'leaky-redirect': http('/redirect/mcp', {}),
    'leaky-token': http('/ok/mcp', { oauth: oauthWith(host, '/token-bad') }),
    'leaky-tool': http('/ok/mcp', { oauth: oauthWith(host, '/token') }),
    'leaky-refused': http('/mcp', { url: `http://127.0.0.1:${closedPort}/mcp` }),
    'leaky-stdio': {
      transport: 'stdio',
      command: process.execPath,
      args: ['-e', STDIO_LEAK],
      env: {},
      classification: 'internal',
      status: 'approved',
      credentials: [{ from: { env: 'SEC_CANARY' }, inject: { env: 'LEAKY_TOKEN' } }],
    },
  };
}

const assertClean = (what: string, text: string) => {
  assert.ok(!text.includes(CANARY), `the credential leaked into ${what}`);
  assert.ok(!text.includes(CANARY_TOKEN), `the OAuth token leaked into ${what}`);
};

describe('credentials never appear in errors, runs, audit records or logs', () => {
  let host: HostileHost;
  let s: TestStack;
  let servers: Record<string, ServerConfig>;
  const logs: string[] = [];
  const lockFile = join(mkdtempSync(join(tmpdir(), 'airlock-sec-secrets-')), 'airlock.lock.json');
  before(async () => {
    host = await startHostileHost(CANARY_TOKEN);
    servers = catalog(host, await freePort());
    // The one healthy-looking server is pinned, so its call reaches the tool; the others fail before pins matter.
    const pinPool = new McpPool(servers, createLogger('silent'), undefined, { secrets: defaultSecretSource(SECRETS) });
    new LockStore(lockFile).pin('leaky-tool', await pinPool.liveTools('leaky-tool'), 'tester');
    await pinPool.close();
    s = await startTestStack({
      env: { ...SECRETS, AIRLOCK_LOG_LEVEL: 'debug' },
      logSink: (line) => void logs.push(line),
      overrides: (cfg) => {
        cfg.policy.dir = shopPolicyDir(Object.keys(servers));
        cfg.registry.lockFile = lockFile;
        // The refund agent's settings without its ticket-closing onFailure steps (these agents have no ticketing server).
        const base = { ...cfg.agents['refund-assistant']!, onFailure: [] };
        for (const [id, server] of Object.entries(servers)) {
          cfg.servers[id] = server;
          cfg.agents[`${id}-bot`] = { ...base, servers: [id], inputSchema: { type: 'object' }, playbook: [{ tool: `${id}.lookup`, args: { orderId: 'O-1' } }] };
        }
      },
    });
  });
  after(async () => {
    await s?.cleanup();
    await host?.close();
  });

  test('the pool: every failure path throws without the secret, and a tool error repeating it comes back masked', async () => {
    const pool = new McpPool(servers, createLogger('silent'), undefined, { secrets: defaultSecretSource(SECRETS), allowedHosts: ['127.0.0.1'] });
    try {
      for (const id of Object.keys(servers).filter((x) => x !== 'leaky-tool')) {
        const err = await pool.liveTools(id).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        assert.ok(err, `${id} failed`);
        assertClean(`the error of ${id}`, `${err.message}\n${err.stack}\n${String((err as { cause?: unknown }).cause)}`);
      }
      const res = await pool.callTool('leaky-tool', 'lookup', { orderId: 'O-1' });
      assert.equal(res.isError, true);
      assert.match(JSON.stringify(res), /refused authorization=Bearer \[REDACTED\] x-api-key=\[REDACTED\]/);
      assertClean('a tool result', JSON.stringify(res));
    } finally {
      await pool.close();
    }
    assert.ok(host.seenAuth.includes(`Bearer ${CANARY_TOKEN}`), 'the server did receive the token (so it could echo it)');
  });

  test('runs that hit each failure path: the run view and the audit trail never hold the secret', async () => {
    const alice = await s.token('alice');
    const olivia = await s.token('olivia');
    const runs = await Promise.all(
      Object.keys(servers).map(async (id) => {
        const res = await s.call('POST', '/v1/runs', { token: alice, body: { agent: `${id}-bot`, input: {} } });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        return s.waitForRun(res.body.runId, (v) => ['completed', 'failed'].includes(v.status), 120_000);
      }),
    );
    const byAgent = new Map(runs.map((r) => [r.agent, r] as [string, RunView]));
    assert.equal(byAgent.get('leaky-tool-bot')!.steps[0]!.status, 'completed', 'the tool ran, and answered with an error');
    for (const r of runs) {
      const view = await s.call('GET', `/v1/runs/${r.runId}`, { token: olivia });
      assert.equal(view.status, 200);
      assertClean(`the run view of ${r.agent}`, JSON.stringify(view.body));
      const audit = await waitFor(
        async () => (await s.call('GET', `/v1/runs/${r.runId}/audit`, { token: olivia })).body?.records ?? [],
        (recs: Array<{ type: string }>) => recs.at(-1)?.type === `run.${r.status}`,
        15_000,
        'run end recorded',
      );
      assertClean(`the audit records of ${r.agent}`, JSON.stringify(audit));
    }
    const raw = ['audit.db', 'audit.db-wal', 'audit-anchors.jsonl'].map((f) => (existsSync(join(s.dataDir, f)) ? readFileSync(join(s.dataDir, f)).toString('latin1') : '')).join('');
    assertClean('the audit store', raw);
    await waitFor(
      async () => logs.join(''),
      (l) => l.includes('leaky-stdio') && l.includes('my token is'),
      10_000,
      'the stdio server’s stderr was logged',
    );
    assertClean('the logs', logs.join(''));
  });
});
