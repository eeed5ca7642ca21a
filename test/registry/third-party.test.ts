// Servers nobody here wrote, at pinned versions: the reference MCP servers `everything`, `filesystem`
// and `memory`. They are scanned and pinned with the real CLI, called through a governed run, and an
// upgrade of `memory` (2025.11.25 pinned, 2026.8.31 installed) is caught as drift.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/schema.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

const nm = (p: string) => join(ROOT, 'node_modules', p);
const work = mkdtempSync(join(tmpdir(), 'airlock-3p-'));
writeFileSync(join(work, 'hello.txt'), 'hello from the filesystem server\n');

/** The catalog entries, as YAML for the CLI and as objects for the stack. */
const SERVERS: Record<string, { args: string[]; env?: Record<string, string> }> = {
  everything: { args: [nm('@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'] },
  files: { args: [nm('@modelcontextprotocol/server-filesystem/dist/index.js'), work] },
  memory: { args: [nm('@modelcontextprotocol/server-memory/dist/index.js')], env: { MEMORY_FILE_PATH: join(work, 'memory.jsonl') } },
  // Pinned at the previous release; the stack then runs the current one under the same id.
  'memory-upgrade': { args: [nm('server-memory-previous/dist/index.js')], env: { MEMORY_FILE_PATH: join(work, 'memory2.jsonl') } },
};

function cli(...args: string[]) {
  const config = join(work, 'catalog.yaml');
  const yaml = [
    `dataDir: ${work}`,
    `policy: { dir: ${join(ROOT, 'examples', 'policies')} }`,
    `registry: { lockFile: airlock.lock.json, urlAllowlist: [githubusercontent.com] }`,
    'servers:',
    ...Object.entries(SERVERS).map(
      ([id, s]) => `  ${id}: { transport: stdio, owner: platform, command: ${JSON.stringify(process.execPath)}, args: ${JSON.stringify(s.args)}, env: ${JSON.stringify(s.env ?? {})} }`,
    ),
  ].join('\n');
  writeFileSync(config, yaml + '\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), '--config', config, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** Demo policies plus these servers' tools, permitted for the support team through `ops-bot`. */
function policyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-3p-policies-'));
  cpSync(join(ROOT, 'examples', 'policies'), dir, { recursive: true });
  const schema = join(dir, 'schema.cedarschema');
  const actions = ['everything.echo', 'everything.get-sum', 'files.read_text_file', 'memory.create_entities', 'memory.read_graph', 'memory-upgrade.read_graph'];
  const decl = actions
    .map((a) => `  action "${a}" in [thirdparty] appliesTo { principal: [User, ServiceAccount], resource: Tool, context: { agent: Agent, phase: String, runId: String, now: datetime, args: {} } };`)
    .join('\n');
  writeFileSync(schema, `${readFileSync(schema, 'utf8').trimEnd().slice(0, -1)}  action thirdparty;\n${decl}\n}\n`);
  writeFileSync(
    join(dir, 'third-party.cedar'),
    `@id("ops-bot-third-party")\npermit (principal, action in Airlock::Action::"thirdparty", resource)\nwhen { context.agent == Airlock::Agent::"ops-bot" && principal.groups.contains("support") };\n`,
  );
  return dir;
}

describe('third-party MCP servers under the registry', () => {
  let s: TestStack;
  before(async () => {
    const pinned = cli('registry', 'pin', '--by', 'platform-team');
    assert.equal(pinned.code, 0, pinned.out);
    s = await startTestStack({
      overrides: (cfg) => {
        cfg.policy.dir = policyDir();
        cfg.registry.lockFile = join(work, 'airlock.lock.json');
        const server = (id: string, args = SERVERS[id]!.args): ServerConfig => ({
          transport: 'stdio',
          command: process.execPath,
          args,
          env: SERVERS[id]!.env ?? {},
          classification: 'internal',
          status: 'approved',
          credentials: [],
        });
        for (const id of ['everything', 'files', 'memory']) cfg.servers[id] = server(id);
        cfg.servers['memory-upgrade'] = server('memory-upgrade', SERVERS.memory!.args); // the upgraded binary
        // The refund agent's settings without its ticket-closing onFailure steps (these agents have no ticketing server).
        const base = { ...cfg.agents['refund-assistant']!, onFailure: [] };
        cfg.agents['ops-bot'] = {
          ...base,
          servers: ['everything', 'files', 'memory', 'memory-upgrade'],
          inputSchema: { type: 'object' },
          playbook: [
            { tool: 'everything.echo', args: { message: 'hello' } },
            { tool: 'everything.get-sum', args: { a: 2, b: 3 } },
            { tool: 'files.read_text_file', args: { path: join(work, 'hello.txt') } },
            { tool: 'memory.create_entities', args: { entities: [{ name: 'Acme', entityType: 'customer', observations: ['double charged'] }] } },
            { tool: 'memory.read_graph', args: {} },
            { tool: 'memory-upgrade.read_graph', args: {} },
          ],
        };
      },
    });
  });
  after(async () => {
    await s?.cleanup();
  });

  test('pinned by the CLI at their exact versions', () => {
    const lock = JSON.parse(readFileSync(join(work, 'airlock.lock.json'), 'utf8'));
    assert.deepEqual(Object.keys(lock.servers), ['everything', 'files', 'memory', 'memory-upgrade']);
    assert.ok(lock.servers.files.tools.read_text_file);
    assert.equal(cli('registry', 'diff', 'memory').code, 0);
  });

  test('a governed run calls all three; the upgraded server is quarantined and its call denied', async () => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'ops-bot', input: {} } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const done = await s.waitForRun(res.body.runId, (v) => v.status === 'failed');
    const [echo, sum, file, create, graph, upgraded] = done.steps;
    assert.deepEqual(
      done.steps.slice(0, 5).map((x) => x.status),
      ['completed', 'completed', 'completed', 'completed', 'completed'],
      JSON.stringify(done.steps),
    );
    assert.match(JSON.stringify(echo!.result!.data), /hello/);
    assert.match(JSON.stringify(sum!.result!.data), /5/);
    assert.match(JSON.stringify(file!.result!.data), /hello from the filesystem server/);
    assert.equal(create!.result!.isError, false);
    assert.match(JSON.stringify(graph!.result!.data), /double charged/);
    assert.deepEqual(graph!.decision!.policyIds, ['ops-bot-third-party']);
    assert.equal(upgraded!.status, 'denied');
    assert.match(upgraded!.decision!.reason, /"memory-upgrade" is quarantined: .*changed: .*read_graph/);
  });

  test('operators read the catalog and pinned tools over REST; requesters cannot', async () => {
    const olivia = await s.token('olivia');
    const list = await s.call('GET', '/v1/registry/servers', { token: olivia });
    assert.equal(list.status, 200);
    const files = list.body.servers.find((x: { id: string }) => x.id === 'files');
    assert.equal(files.status, 'approved');
    assert.equal(files.pinned.by, 'platform-team');
    assert.ok(files.pinned.tools.includes('read_text_file'));
    const tools = await s.call('GET', '/v1/registry/servers/files/tools', { token: olivia });
    assert.equal(tools.status, 200);
    assert.match(tools.body.tools.find((t: { name: string }) => t.name === 'read_text_file').sha256, /^[0-9a-f]{64}$/);
    assert.equal((await s.call('GET', '/v1/registry/servers/nope/tools', { token: olivia })).status, 404);
    assert.equal((await s.call('GET', '/v1/registry/servers', { token: await s.token('alice') })).status, 403);
  });
});
