// The CLI as a newcomer meets it: each mistake is one line on stderr naming the problem and the fix (exit 2 for
// usage errors, 1 for failures), never a stack trace unless --debug; lists have headers; --json parses; every
// subcommand's help shows the global options. Runs the real CLI as a child process against a fresh data dir.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openAuditStore } from '../../src/audit/index.js';
import { loadConfig, ROOT } from '../../src/config/load.js';

const freshDataDir = () => mkdtempSync(join(tmpdir(), 'airlock-cli-'));

function airlockIn(dataDir: string, ...args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, AIRLOCK_DATA_DIR: dataDir, AIRLOCK_LOG_LEVEL: 'warn' };
  delete env.AIRLOCK_CONFIG; // the example configuration
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const airlock = (...args: string[]) => airlockIn(freshDataDir(), ...args);

/** Asserts the exit code and that stderr is exactly one `airlock: …` line matching `problem`, with no stack frames. */
function assertOneLine(r: ReturnType<typeof airlock>, code: number, problem: RegExp) {
  assert.equal(r.code, code, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^airlock: /);
  assert.match(lines[0]!, problem);
}

describe('airlock CLI mistakes: one line, exit 2 for usage, 1 for failures', () => {
  test('an unknown demo user names the known ones', () => {
    assertOneLine(airlock('token', 'mallory'), 2, /unknown demo user "mallory": pick one of alice, bob/);
  });

  test('a bad --ttl says what a duration is', () => {
    assertOneLine(airlock('token', 'alice', '--ttl', 'abc'), 2, /--ttl "abc" is not a duration: give a positive whole number of seconds/);
    assertOneLine(airlock('token', 'alice', '--ttl', '-5'), 2, /--ttl "-5" is not a duration/);
  });

  test('a missing user and a revoke without --jti or --subject are usage errors', () => {
    assertOneLine(airlock('token'), 2, /name a demo user: airlock token <user> \(known: alice/);
    assertOneLine(airlock('token', 'revoke'), 2, /give exactly one of --jti <id> and --subject <subject>/);
  });

  test('an unknown server names the catalog', () => {
    assertOneLine(airlock('registry', 'diff', 'nosuch'), 2, /unknown server "nosuch": the catalog has crm, ticketing, billing/);
    assertOneLine(airlock('registry', 'approve', 'nosuch', '--by', 'me'), 2, /unknown server "nosuch"/);
  });

  test('a date that does not parse is a usage error with an example', () => {
    assertOneLine(airlock('audit', 'export', '--from', 'yesterday'), 2, /--from "yesterday" is not a date: give an ISO-8601 time, e\.g\. --from 2026-11-30/);
    assertOneLine(airlock('audit', 'list', '--to', 'soon'), 2, /--to "soon" is not a date/);
  });

  test('nothing found for what was asked for is a failure (exit 1), not silence', () => {
    const r = airlock('audit', 'export', '--run', 'nope');
    assertOneLine(r, 1, /^airlock: no audit records for run nope$/);
    assert.equal(r.stdout, '');
    assertOneLine(airlock('audit', 'list', '--principal', 'nobody'), 1, /no audit records for principal nobody/);
  });

  test("commander's own errors are usage errors pointing at the command's help", () => {
    assertOneLine(airlock('token', 'alice', '--bogus'), 2, /unknown option '--bogus' \(see airlock token --help\)/);
    assertOneLine(airlock('nosuch'), 2, /unknown command 'nosuch' \(see airlock --help\)/);
    assertOneLine(airlock('registry', 'diff'), 2, /missing required argument 'server' \(see airlock registry diff --help\)/);
    assertOneLine(airlock('token', 'alice', 'bob'), 2, /too many arguments for 'token'/);
  });

  test('a config file that cannot be read is a usage error naming the file', () => {
    assertOneLine(airlock('--config', join(tmpdir(), 'no-such-airlock.yaml'), 'token', 'alice'), 2, /config error: .*no-such-airlock\.yaml: cannot read config.*--config <file>/);
  });

  test('a failure that is not a usage error (an invalid lockfile) exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-lock-'));
    const config = join(dir, 'airlock.yaml');
    writeFileSync(join(dir, 'airlock.lock.json'), '{ not json');
    writeFileSync(config, `policy: { dir: ${join(ROOT, 'examples', 'policies')} }\nregistry: { lockFile: airlock.lock.json }\n`);
    assertOneLine(airlock('--config', config, 'registry', 'list'), 1, /registry lockfile error/);
  });

  test('--debug adds the stack trace', () => {
    const r = airlock('--debug', 'token', 'mallory');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^airlock: unknown demo user "mallory"/);
    assert.match(r.stderr, /\n\s+at /);
  });
});

describe('airlock CLI output', () => {
  test('registry list prints a header row above the servers', () => {
    const r = airlock('registry', 'list');
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    assert.match(header!, /^SERVER\s+STATUS\s+TRANSPORT\s+CLASSIFICATION\s+OWNER\s+PINS$/);
    assert.ok(
      rows.some((l) => /^crm\s+approved\s+stdio\s+confidential\s+sales-ops\s+pinned \d+ tools/.test(l)),
      r.stdout,
    );
  });

  test('audit list prints a table with a header; export prints the matching records as JSON lines', async () => {
    const dataDir = freshDataDir();
    const store = await openAuditStore(loadConfig({ env: { AIRLOCK_DATA_DIR: dataDir } }));
    try {
      const at = new Date().toISOString();
      await store.append([
        { eventId: 'e1', chain: 'run:run-1', type: 'run.started', at, runId: 'run-1', principal: 'alice', data: {} },
        { eventId: 'e2', chain: 'run:run-1', type: 'tool.executed', at, runId: 'run-1', principal: 'alice', server: 'crm', tool: 'lookup', outcome: 'ok', data: {} },
      ]);
    } finally {
      await store.close();
    }
    const list = airlockIn(dataDir, 'audit', 'list', '--run', 'run-1');
    assert.equal(list.code, 0, list.stderr);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    assert.match(header!, /^SEQ\s+AT\s+TYPE\s+RUN\s+PRINCIPAL\s+TOOL\s+OUTCOME$/);
    assert.equal(rows.length, 2, list.stdout);
    assert.match(rows[1]!, /tool\.executed\s+run-1\s+alice\s+crm\.lookup\s+ok$/);
    const asJson = airlockIn(dataDir, '--json', 'audit', 'list');
    assert.deepEqual(
      (JSON.parse(asJson.stdout) as Array<{ eventId: string }>).map((r) => r.eventId),
      ['e1', 'e2'],
    );
    const exported = airlockIn(dataDir, 'audit', 'export', '--run', 'run-1');
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(
      exported.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { eventId: string }).eventId),
      ['e1', 'e2'],
    );
  });

  test('--json prints JSON that parses, before or after the command', () => {
    const list = airlock('--json', 'registry', 'list');
    assert.equal(list.code, 0, list.stderr);
    const servers = JSON.parse(list.stdout) as Array<{ server: string; status: string; pinned: { tools: number } | null }>;
    assert.ok(servers.some((s) => s.server === 'crm' && s.status === 'approved' && s.pinned !== null));

    const token = airlock('token', 'alice', '--json');
    assert.equal(token.code, 0, token.stderr);
    const t = JSON.parse(token.stdout) as { user: string; token: string };
    assert.equal(t.user, 'alice');
    assert.match(t.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

    const verify = airlock('audit', 'verify', '--json');
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { ok: boolean }).ok, true);

    const readiness = airlock('readiness', '--json');
    assert.equal(readiness.code, 0, readiness.stderr);
    assert.ok(Array.isArray((JSON.parse(readiness.stdout) as { questions: unknown[] }).questions));
  });

  test("every subcommand's help shows the global options", () => {
    for (const cmd of [['token'], ['token', 'revoke'], ['registry', 'list'], ['audit', 'export'], ['readiness'], ['replay']]) {
      const r = airlock(...cmd, '--help');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Global Options:[\s\S]*--config <file>[\s\S]*--json[\s\S]*--debug/, cmd.join(' '));
    }
  });
});
