// The config error report: every mistake at once, each at its own line and column with a fix; paths relative to
// the config file; durations as the message says.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, ROOT } from '../../src/config/load.js';
import { DURATION_MESSAGE } from '../../src/config/schema.js';

const root = mkdtempSync(join(tmpdir(), 'airlock-report-'));
let n = 0;
/** A config file in a directory of its own, with the default `policies` beside it. */
function write(text: string): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(join(dir, 'policies'), { recursive: true });
  const file = join(dir, 'airlock.yaml');
  writeFileSync(file, text);
  return file;
}
function loadError(file: string, env: Record<string, string> = {}): ConfigError {
  try {
    loadConfig({ file, env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err;
  }
  assert.fail('config loaded');
}

const MISTAKES = [
  'api:', //                                   1
  '  host: 127.0.0.1', //                      2
  '  port: 99999', //                          3  bad value
  'servers:', //                               4
  '  crm:', //                                 5
  '    transport: stdio', //                   6  missing command (reported where its siblings start)
  'agents:', //                                7
  '  a:', //                                   8
  '    servers: [crm]', //                     9
  '    approvals:', //                         10
  '      group: leads', //                     11
  '      expiresAfter: 3 days', //             12 bad duration
  '      expires: 1h', //                      13 unknown nested key
  '    description: refunds', //               14
  'identity:', //                              15
  '  tokenTtl: ${env.AIRLOCK_NO_SUCH_TTL}', // 16 unset variable
  'dataDri: somewhere', //                     17 top-level typo, deep in the file
  '',
].join('\n');

describe('config error report', () => {
  test('every mistake in one error, each at its own line and column, sorted by line, with a fix', () => {
    const file = write(MISTAKES);
    const e = loadError(file);
    const at = e.issues.map((i) => `${i.line}:${i.col} ${i.path}`);
    assert.deepEqual(at, ['3:9 api.port', '6:5 servers.crm.command', '12:21 agents.a.approvals.expiresAfter', '13:7 agents.a.approvals.expires', '16:13 identity.tokenTtl', '17:1 dataDri']);
    const lines = e.message.split('\n');
    assert.equal(lines.length, 6);
    for (const [i, issue] of e.issues.entries()) {
      assert.ok(lines[i]!.startsWith(`${file}:${issue.line}:${issue.col}: ${issue.path}: `), lines[i]);
      assert.match(lines[i]!, /\(fix: .+\)$/);
    }
    assert.match(e.message, /dataDri: unknown key "dataDri" \(fix: did you mean "dataDir"\?\)/);
    assert.match(e.message, /agents\.a\.approvals\.expires: unknown key "expires" \(fix: did you mean "expiresAfter"\?\)/);
    assert.match(e.message, /servers\.crm\.command: required key "command" is missing/);
    assert.match(e.message, /identity\.tokenTtl: environment variable AIRLOCK_NO_SUCH_TTL is not set/);
    assert.equal(e.line, 3);
    assert.equal(e.col, 9);
    assert.equal(e.file, file);
  });

  test('every YAML syntax error at once, at its line', () => {
    const e = loadError(write('api:\n  host: a\n  host: b\nagents:\n\tb: 1\n'));
    assert.deepEqual(
      e.issues.map((i) => `${i.line}:${i.col}`),
      ['3:3', '5:1'],
    );
    assert.match(e.message, /:3:3: YAML: Map keys must be unique \(fix: keep one of the two keys\)/);
    assert.ok(
      e.issues.every((i) => i.line && i.col && i.fix && i.message.startsWith('YAML: ')),
      e.message,
    );
    assert.deepEqual(
      e.issues.map((i) => i.line),
      [...e.issues.map((i) => i.line!)].sort((a, b) => a - b),
    );
  });

  test('dangling references are all reported together', () => {
    const file = write('servers:\n  crm: { transport: stdio, command: node }\nagents:\n  a:\n    servers: [crm, erp]\n    model: gpt-9\n');
    const e = loadError(file);
    assert.deepEqual(
      e.issues.map((i) => `${i.line}:${i.col} ${i.path}`),
      ['5:20 agents.a.servers[1]', '6:12 agents.a.model'],
    );
  });

  test('a bad environment value says where the value came from', () => {
    const e = loadError(DEFAULT_CONFIG_FILE, { AIRLOCK_DATA_DIR: root, AIRLOCK_APPROVAL_EXPIRY: 'soon' });
    assert.equal(e.issues.length, 3, e.message); // the three demo agents read it
    assert.ok(e.issues.every((i) => i.message.includes('$AIRLOCK_APPROVAL_EXPIRY')));
  });
});

describe('paths are relative to the config file', () => {
  test('dataDir, and the ${dataDir} it gives, resolve against the config file, not the working directory', () => {
    const file = write('dataDir: state\nservers:\n  s: { transport: stdio, command: node, args: ["${dataDir}/s.db"], cwd: work }\n');
    const dir = join(file, '..');
    const c = loadConfig({ file, env: {} });
    assert.equal(c.dataDir, join(dir, 'state'));
    const s = c.servers.s!;
    assert.ok(s.transport === 'stdio');
    assert.deepEqual(s.args, [join(dir, 'state', 's.db')]);
    assert.equal(s.cwd, join(dir, 'work'));
    assert.equal(loadConfig({ file: write('api: { port: 3000 }\n'), env: {} }).dataDir, join(root, `d${n - 1}`, '.airlock'));
  });

  test('AIRLOCK_DATA_DIR still overrides dataDir (a relative value is relative to the repository)', () => {
    const file = write('dataDir: state\n');
    assert.equal(loadConfig({ file, env: { AIRLOCK_DATA_DIR: join(root, 'elsewhere') } }).dataDir, join(root, 'elsewhere'));
    assert.equal(loadConfig({ file, env: { AIRLOCK_DATA_DIR: 'rel' } }).dataDir, join(ROOT, 'rel'));
  });

  test("the demo config keeps its state in the repository's .airlock", () => {
    assert.equal(loadConfig({ env: {} }).dataDir, join(ROOT, '.airlock'));
  });

  test('secret files, the directory file, the lockfile and demo databases resolve as documented', () => {
    const file = write(
      [
        'registry: { lockFile: pins.json }',
        'identity:',
        '  decisionKey: { file: secrets/decision.jwk }',
        '  directory: { file: people.yaml }',
        'temporal:',
        '  cli: bin/temporal',
        '  encryption: { keys: { k1: { file: secrets/k1 } }, current: k1 }',
        'models:',
        '  m: { kind: anthropic, model: claude, apiKey: { file: secrets/anthropic } }',
        'servers:',
        '  s:',
        '    transport: stdio',
        '    command: node',
        '    credentials: [{ from: { file: secrets/token }, inject: { env: TOKEN } }]',
        '',
      ].join('\n'),
    );
    const dir = join(file, '..');
    const c = loadConfig({ file, env: { AIRLOCK_DATA_DIR: join(root, 'data') } });
    assert.equal(c.registry.lockFile, join(dir, 'pins.json'));
    assert.deepEqual(c.identity.decisionKey, { file: join(dir, 'secrets', 'decision.jwk') });
    assert.equal(c.identity.directory!.file, join(dir, 'people.yaml'));
    assert.equal(c.temporal.cli, join(dir, 'bin', 'temporal'));
    assert.deepEqual(c.temporal.encryption!.keys.k1, { file: join(dir, 'secrets', 'k1') });
    assert.deepEqual(c.models.m!.apiKey, { file: join(dir, 'secrets', 'anthropic') });
    assert.deepEqual(c.servers.s!.credentials[0]!.from, { file: join(dir, 'secrets', 'token') });
  });
});

describe('durations', () => {
  const agent = (expiry: string) => `servers:\n  crm: { transport: stdio, command: node }\nagents:\n  a:\n    servers: [crm]\n    approvals: { expiresAfter: ${expiry} }\n`;
  const expiry = (value: string) => loadConfig({ file: write(agent(value)), env: {} }).agents.a!.approvals.expiresAfter;

  test('a bare number is milliseconds, as a YAML number or a string; units ms, s, m, h and d', () => {
    assert.equal(expiry('90000'), 90_000);
    assert.equal(expiry('"90000"'), 90_000);
    assert.equal(expiry('500ms'), 500);
    assert.equal(expiry('30s'), 30_000);
    assert.equal(expiry('5m'), 300_000);
    assert.equal(expiry('72h'), 72 * 3_600_000);
    assert.equal(expiry('1d'), 86_400_000);
    const demo = loadConfig({ env: { AIRLOCK_DATA_DIR: root, AIRLOCK_APPROVAL_EXPIRY: '90000' } });
    assert.equal(demo.agents['refund-assistant']!.approvals.expiresAfter, 90_000);
  });

  test('anything else is refused with a message listing exactly the accepted forms', () => {
    for (const bad of ['0', '-5', '1.5', '1.5h', '3 days', '1w', '72H', '""']) {
      const e = loadError(write(agent(bad)));
      assert.equal(e.issues.length, 1, `${bad}: ${e.message}`);
      assert.equal(e.issues[0]!.message, DURATION_MESSAGE, bad);
      assert.equal(e.line, 6, bad);
    }
  });
});
