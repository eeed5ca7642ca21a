// Registry enforcement inside governed runs and through the `airlock registry` CLI, with real
// stdio MCP servers that turn on their users after being pinned.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/schema.js';
import { shopPolicyDir, shopServer, SHAPESHIFTER } from '../helpers/shop.js';
import { freePort, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

function airlock(config: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), '--config', config, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, AIRLOCK_LOG_LEVEL: 'warn' },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('airlock registry CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-reg-cli-'));
  const config = (mode: string) => {
    const f = join(dir, `${mode}.yaml`);
    writeFileSync(
      f,
      `dataDir: ${dir}
policy: { dir: ${join(ROOT, 'examples', 'policies')} }
registry: { lockFile: ${mode}.lock.json }
servers:
  shop:
    transport: stdio
    owner: fulfilment
    command: ${process.execPath}
    args: [--import, tsx, ${SHAPESHIFTER}, ${mode}]
    cwd: ${ROOT}
`,
    );
    return f;
  };

  test('a poisoned server is refused at pin time; an override is recorded with its reason', () => {
    const cfg = config('poisoned');
    const refused = airlock(cfg, 'registry', 'pin', '--by', 'ops-lead');
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /shop: \d+ finding\(s\) block approval/);
    assert.match(refused.out, /hidden-instruction/);
    assert.match(refused.out, /secret-request/);
    assert.match(refused.out, /nothing was pinned/);
    assert.throws(() => readFileSync(join(dir, 'poisoned.lock.json')), 'no lockfile written');
    const forced = airlock(cfg, 'registry', 'pin', '--by', 'ops-lead', '--override', 'vendor confirmed; sandboxed');
    assert.equal(forced.code, 0, forced.out);
    const lock = JSON.parse(readFileSync(join(dir, 'poisoned.lock.json'), 'utf8'));
    assert.equal(lock.servers.shop.override.reason, 'vendor confirmed; sandboxed');
    assert.equal(lock.servers.shop.override.by, 'ops-lead');
    assert.ok(lock.servers.shop.override.findings.length > 0);
  });

  test('pin, then an upgrade shows up in list --check and diff, and approve re-pins it', () => {
    const cfg = config('honest');
    assert.equal(airlock(cfg, 'registry', 'pin', '--by', 'ops-lead').code, 0);
    assert.match(airlock(cfg, 'registry', 'list', '--check').out, /shop\s+approved\s+stdio\s+internal\s+fulfilment\s+pinned 1 tools .* live tools match/);
    // The same lockfile, now facing v2 of the server.
    const v2 = config('v2');
    cpSync(join(dir, 'honest.lock.json'), join(dir, 'v2.lock.json'));
    const check = airlock(v2, 'registry', 'list', '--check');
    assert.equal(check.code, 1);
    assert.match(check.out, /DRIFT \(changed: lookup\)/);
    const diff = airlock(v2, 'registry', 'diff', 'shop');
    assert.equal(diff.code, 1);
    assert.match(diff.out, /~ lookup/);
    assert.match(diff.out, /-\s+"description": "Looks up an order by id and returns its status\."/);
    assert.match(diff.out, /\+\s+"description": "Looks up an order by its id; returns the status and the carrier\."/);
    assert.equal(airlock(v2, 'registry', 'approve', 'shop', '--by', 'ops-lead').code, 0);
    assert.equal(airlock(v2, 'registry', 'diff', 'shop').code, 0);
  });

  test('a `demo` HTTP server nothing serves yet is started from its configured module for the command, then stopped', async () => {
    const port = await freePort();
    const f = join(dir, 'demo.yaml');
    writeFileSync(
      f,
      `dataDir: ${dir}
policy: { dir: ${join(ROOT, 'examples', 'policies')} }
registry: { lockFile: demo.lock.json, allowedHosts: [127.0.0.1] }
servers:
  ticketing:
    transport: http
    url: http://127.0.0.1:${port}/mcp
    allowPrivateNetwork: true
    demo: { module: ${join(ROOT, 'examples', 'mcp', 'serve.ts')}, system: ticketing, db: ${join(dir, 'ticketing.db')} }
`,
    );
    const pinned = airlock(f, 'registry', 'pin', '--by', 'ops-lead');
    assert.equal(pinned.code, 0, pinned.out);
    assert.match(pinned.out, /pinned ticketing: 3 tools/);
    const check = airlock(f, 'registry', 'list', '--check');
    assert.equal(check.code, 0, check.out);
    assert.match(check.out, /ticketing\s+approved\s+http .* live tools match/);
    assert.equal(
      await fetch(`http://127.0.0.1:${port}/mcp`).then(
        () => 'answered',
        () => 'refused',
      ),
      'refused',
      'stopped with the command',
    );
  });
});

describe('drift inside a governed run', () => {
  let s: TestStack;
  const canaryDir = mkdtempSync(join(tmpdir(), 'airlock-reg-run-'));
  const lockFile = join(canaryDir, 'airlock.lock.json');
  const CANARY = `canary-${Date.now()}-9f8e7d6c5b4a`;
  const canaryFile = join(canaryDir, 'shop-token');
  writeFileSync(canaryFile, CANARY + '\n', { mode: 0o600 });
  const WORKER_CANARY = `worker-canary-${Date.now()}`;
  const logs: string[] = [];
  process.env.AIRLOCK_TEST_WORKER_SECRET = WORKER_CANARY;
  before(async () => {
    s = await startTestStack({
      env: { AIRLOCK_LOG_LEVEL: 'debug' },
      logSink: (line) => void logs.push(line),
      overrides: (cfg) => {
        cfg.policy.dir = shopPolicyDir(['shop', 'vault-shop', 'broken-shop']);
        cfg.registry.lockFile = lockFile;
        const shop = shopServer;
        cfg.servers.shop = shop('rugpull');
        cfg.servers['vault-shop'] = shop('honest', [{ from: { file: canaryFile }, inject: { env: 'SHOP_API_TOKEN' } }]);
        cfg.servers.poisoned = shop('poisoned');
        cfg.servers['broken-shop'] = shop('honest', [{ from: { file: join(canaryDir, 'missing-secret') }, inject: { env: 'SHOP_API_TOKEN' } }]);
        // The refund agent's settings without its ticket-closing onFailure steps (these agents have no ticketing server).
        const base = { ...cfg.agents['refund-assistant']!, onFailure: [] };
        cfg.agents['order-bot'] = {
          ...base,
          servers: ['shop'],
          inputSchema: { type: 'object' },
          playbook: [
            { tool: 'shop.lookup', args: { orderId: 'O-1' } },
            { tool: 'shop.lookup', args: { orderId: 'O-2' } },
          ],
        };
        // The demo ticketing server again, but without the per-server permission for a private address.
        cfg.servers.rogue = { ...(cfg.servers.ticketing as Extract<ServerConfig, { transport: 'http' }>), demo: undefined, allowPrivateNetwork: false };
        cfg.agents['rogue-bot'] = { ...cfg.agents['order-bot']!, servers: ['rogue'], playbook: [{ tool: 'rogue.get_ticket', args: { ticketId: 'T-5001' } }] };
        // A model that leaks a secret it has seen into tool args: the audit trail must not keep it.
        cfg.agents['leaky-bot'] = { ...cfg.agents['order-bot'], servers: ['vault-shop'], playbook: [{ tool: 'vault-shop.lookup', args: { orderId: CANARY } }] };
        cfg.agents['vault-bot'] = {
          ...cfg.agents['order-bot'],
          servers: ['vault-shop', 'broken-shop'],
          playbook: [
            { tool: 'vault-shop.lookup', args: { orderId: 'O-7' } },
            { tool: 'broken-shop.lookup', args: { orderId: 'O-8' } },
          ],
        };
      },
    });
    // Pin what the server looks like before anyone used it (as `airlock registry pin` would).
    const { LockStore } = await import('../../src/registry/lock.js');
    const { McpPool } = await import('../../src/registry/pool.js');
    const pool = new McpPool(s.config.servers, (await import('../../src/log/logger.js')).createLogger('silent'));
    const store = new LockStore(lockFile);
    for (const id of ['shop', 'vault-shop']) store.pin(id, await pool.liveTools(id), 'tester');
    store.pin('broken-shop', await pool.liveTools('vault-shop'), 'tester'); // same tools; it cannot start without its secret
    await pool.close();
  });
  after(async () => {
    await s?.cleanup();
  });

  test('the first call runs; after the rug pull the next call is denied with the drift on the run', async () => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'order-bot', input: {} } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const done = await s.waitForRun(res.body.runId, (v) => v.status === 'failed');
    assert.equal(done.steps[0]!.status, 'completed');
    assert.equal(done.steps[1]!.status, 'denied');
    assert.match(done.steps[1]!.decision!.reason, /"shop" is quarantined: .*changed: lookup/);
    assert.equal(done.error!.type, 'PolicyDenied');
    // The drift this run ran into is on the registry chain, once (this is the only run on `shop`).
    const olivia = await s.token('olivia');
    const drifts = await waitFor(
      async (): Promise<Array<{ server: string; chain: string }>> => (await s.call('GET', '/v1/audit?type=registry.drift', { token: olivia })).body?.records ?? [],
      (r) => r.length > 0,
      15_000,
      'registry.drift recorded',
    );
    assert.deepEqual(
      drifts.map((r) => [r.server, r.chain]),
      [['shop', 'registry']],
    );
  });

  test('credentials reach only their server; the canary appears in no run view, history, API response or log line', async () => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'vault-bot', input: {} } });
    const done = await s.waitForRun(res.body.runId, (v) => v.status === 'failed');
    assert.equal(done.steps[0]!.status, 'completed', JSON.stringify(done.steps));
    const sha = createHash('sha256').update(CANARY).digest('hex').slice(0, 12);
    assert.equal(done.steps[0]!.result!.data, `order O-7: shipped (token sha256 ${sha})`, 'the server got its token, and nothing of the worker');
    assert.equal(done.steps[1]!.status, 'denied');
    assert.match(done.steps[1]!.decision!.reason, /"broken-shop" credentials: secret file .*missing-secret is unreadable: ENOENT/);
    const history = JSON.stringify(await s.client.workflow.getHandle(res.body.runId).fetchHistory());
    const approvals = JSON.stringify((await s.call('GET', '/v1/approvals', { token: await s.token('olivia') })).body);
    assert.ok(logs.length > 10, `debug logs were captured (${logs.length} lines)`);
    for (const [name, text] of [
      ['run view', JSON.stringify(done)],
      ['workflow history', history],
      ['approvals', approvals],
      ['logs (debug level)', logs.join('')],
    ] as const) {
      assert.ok(!text.includes(CANARY), `server secret leaked into the ${name}`);
      assert.ok(!text.includes(WORKER_CANARY), `worker secret leaked into the ${name}`);
    }
  });

  test('a secret the model puts in tool args never reaches the audit store; an empty audit filter is refused', async () => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'leaky-bot', input: {} } });
    const done = await s.waitForRun(res.body.runId, (v) => ['completed', 'failed'].includes(v.status));
    const olivia = await s.token('olivia');
    const records = await waitFor(
      async () => (await s.call('GET', `/v1/runs/${res.body.runId}/audit`, { token: olivia })).body?.records ?? [],
      (r: Array<{ type: string }>) => r.at(-1)?.type === `run.${done.status}`,
      15_000,
      'run end recorded',
    );
    const proposed = records.find((r: { type: string }) => r.type === 'tool.proposed') as unknown as { data: { args: { orderId: string } } };
    assert.equal(proposed.data.args.orderId, '[REDACTED]');
    const dir = s.dataDir;
    const raw = ['audit.db', 'audit.db-wal', 'audit-anchors.jsonl'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f)).toString('latin1') : '')).join('');
    assert.ok(raw.length > 1000);
    assert.ok(!raw.includes(CANARY), 'the canary reached the audit store');

    const empty = await s.call('GET', '/v1/audit?type=registry.drift&tool=', { token: olivia });
    assert.equal(empty.status, 400, 'an empty filter is a bad request, not "match everything"');
  });

  test('an HTTP server on a private address is refused unless that server allows it', async () => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'rogue-bot', input: {} } });
    const done = await s.waitForRun(res.body.runId, (v) => v.status === 'failed');
    assert.equal(done.steps[0]!.status, 'denied');
    assert.match(done.steps[0]!.decision!.reason, /"rogue": host 127\.0\.0\.1 resolves to a private address/);
  });

  test('admins quarantine and re-approve over REST; runs follow at once; findings block approval', async () => {
    const adam = await s.token('adam');
    const startVault = async () => {
      const r = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'vault-bot', input: {} } });
      return s.waitForRun(r.body.runId, (v) => v.status === 'failed');
    };
    assert.equal((await s.call('POST', '/v1/registry/servers/vault-shop/quarantine', { token: await s.token('olivia'), body: { reason: 'x' } })).status, 403);
    assert.equal((await s.call('POST', '/v1/registry/servers/vault-shop/quarantine', { token: adam, body: {} })).status, 400, 'a reason is required');
    const q = await s.call('POST', '/v1/registry/servers/vault-shop/quarantine', { token: adam, body: { reason: 'vendor incident 4711' } });
    assert.equal(q.status, 200, JSON.stringify(q.body));
    const blocked = await startVault();
    assert.equal(blocked.steps[0]!.status, 'denied');
    assert.match(blocked.steps[0]!.decision!.reason, /"vault-shop" was quarantined by adam at .*: vendor incident 4711/);
    const list = await s.call('GET', '/v1/registry/servers', { token: adam });
    assert.equal(list.body.servers.find((x: { id: string }) => x.id === 'vault-shop').status, 'quarantined');

    const a = await s.call('POST', '/v1/registry/servers/vault-shop/approve', { token: adam, body: { reason: 'incident closed' } });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.body.pinnedTools, 1);
    const ok = await startVault();
    assert.equal(ok.steps[0]!.status, 'completed', 'approved again: the call runs');

    const poisoned = await s.call('POST', '/v1/registry/servers/poisoned/approve', { token: adam, body: { reason: 'onboarding' } });
    assert.equal(poisoned.status, 422);
    assert.equal(poisoned.body.error.code, 'findings');
    assert.ok(
      poisoned.body.error.details.some((l: string) => /hidden-instruction/.test(l)),
      JSON.stringify(poisoned.body),
    );
    assert.equal((await s.call('GET', '/v1/registry/servers/poisoned/tools', { token: adam })).status, 404, 'nothing pinned');
    // Each change is on the registry chain, with who and why; the refused approval changed nothing, so it is not.
    const admin = (await s.call('GET', '/v1/audit?principal=adam', { token: await s.token('olivia') })).body.records;
    assert.deepEqual(
      admin.map((r: { type: string; server: string; data: { reason: string } }) => [r.type, r.server, r.data.reason]),
      [
        ['registry.quarantined', 'vault-shop', 'vendor incident 4711'],
        // The pin is recorded before the lockfile is written, then the approval.
        ['registry.pinned', 'vault-shop', 'incident closed'],
        ['registry.approved', 'vault-shop', 'incident closed'],
      ],
    );
  });
});
