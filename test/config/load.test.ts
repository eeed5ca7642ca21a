// Configuration: every mistake is a startup error naming the file and the line, and nothing starts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from '../../src/config/load.js';
import { temporalConnectionOptions } from '../../src/temporal/connection.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-config-'));
mkdirSync(join(dir, 'policies')); // the default policy.dir, relative to each config file
let n = 0;
function write(text: string): string {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}
const env = { AIRLOCK_DATA_DIR: dir };
function loadError(text: string, extraEnv: Record<string, string> = {}): ConfigError {
  const file = write(text);
  try {
    loadConfig({ file, env: { ...env, ...extraEnv } });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    assert.equal(err.file, file);
    return err;
  }
  assert.fail('config loaded');
}

const AGENT = `
servers:
  crm: { transport: stdio, command: node }
agents:
  a:
    servers: [crm]
`;

describe('config loading', () => {
  test('the demo config loads with its defaults', () => {
    const c = loadConfig({ env: { ...env } });
    assert.equal(c.configFile, DEFAULT_CONFIG_FILE);
    assert.equal(c.api.port, 3000);
    assert.equal(c.temporal.devServer.uiPort, 8233);
    assert.equal(c.agents['refund-assistant']!.approvals.expiresAfter, 72 * 3_600_000);
    assert.equal(c.agents['refund-assistant']!.autonomy, 'autonomous');
    assert.equal(c.policy.dir, join(dirname(DEFAULT_CONFIG_FILE), 'policies'));
    assert.equal(c.dataDir, dir);
  });

  test('environment variables override the file', () => {
    const c = loadConfig({ env: { ...env, AIRLOCK_API_PORT: '4100', AIRLOCK_TEMPORAL_ADDRESS: 'temporal.example:7233', AIRLOCK_APPROVAL_EXPIRY: '90m' } });
    assert.equal(c.api.port, 4100);
    assert.equal(c.temporal.address, 'temporal.example:7233');
    assert.equal(c.agents['refund-assistant']!.approvals.expiresAfter, 90 * 60_000);
  });

  test('YAML syntax errors name the line', () => {
    const e = loadError('api:\n  port: 3000\n  host: [unclosed\n');
    assert.ok(e.line && e.line >= 3, e.message);
  });

  test('schema violations name the key and its line', () => {
    const e = loadError('api:\n  host: 127.0.0.1\n  port: 99999\n');
    assert.equal(e.line, 3);
    assert.match(e.message, /api\.port/);
    const unknown = loadError('dataDir: x\napi:\n  hots: 127.0.0.1\n');
    assert.match(unknown.message, /hots/);
    assert.equal(unknown.line, 3);
    const dur = loadError(`${AGENT}    approvals:\n      expiresAfter: 3 days\n`);
    assert.match(dur.message, /duration/);
    assert.equal(dur.line, 8);
  });

  test('dangling references are refused', () => {
    assert.match(loadError(AGENT.replace('[crm]', '[crm, erp]')).message, /unknown server "erp"/);
    assert.match(loadError(`${AGENT}    model: gpt-9\n`).message, /unknown model provider "gpt-9"/);
    const playbook = loadError(`${AGENT}    playbook:\n      - { tool: billing.issue_refund }\n`);
    assert.match(playbook.message, /billing\.issue_refund" is not on a server of this agent/);
    assert.equal(playbook.line, 8);
    const dir = loadError(`policy:\n  dir: no-such-policies\n`);
    assert.match(dir.message, /policy\.dir: no such directory .*no-such-policies/);
    assert.equal(dir.line, 2);
    assert.match(loadError(`${AGENT}    autonomy: yolo\n`).message, /autonomy/);
  });

  test('demo.module is resolved against the config file; a missing module and a URL it cannot be served at are refused', () => {
    writeFileSync(join(dir, 'system.mjs'), 'export function openSystem() {}\n');
    const demo = (url: string, module: string) => `servers:\n  t:\n    transport: http\n    url: ${url}\n    demo: { module: ${module}, system: s, db: x.db }\n`;
    const c = loadConfig({ file: write(demo('http://127.0.0.1:3999/mcp', 'system.mjs')), env });
    const t = c.servers.t!;
    assert.ok(t.transport === 'http' && t.demo);
    assert.equal(t.demo.module, join(dir, 'system.mjs'));
    const missing = loadError(demo('http://127.0.0.1:3999/mcp', 'nowhere.mjs'));
    assert.match(missing.message, /servers\.t\.demo\.module: no such file .*nowhere\.mjs/);
    assert.equal(missing.line, 5);
    for (const url of ['https://127.0.0.1:3999/mcp', 'http://127.0.0.1/mcp', 'http://127.0.0.1:3999/other'])
      assert.match(loadError(demo(url, 'system.mjs')).message, /servers\.t\.url: .*http:\/\/HOST:PORT\/mcp/, url);
  });

  test('routes and budgets name only configured models and agents', () => {
    const route = loadError(`${AGENT}routing:\n  routes:\n    - task: plan\n      models: [embedded, gpt-9]\n`);
    assert.match(route.message, /routing\.routes\[0\]\.models\[1\]: unknown model provider "gpt-9"/);
    assert.equal(route.line, 10);
    assert.match(loadError(`${AGENT}routing:\n  routes:\n    - { task: plan, agents: [b], models: [embedded] }\n`).message, /unknown agent "b"/);
    assert.match(loadError(`${AGENT}routing:\n  budgets:\n    perAgent:\n      b: { tokens: 10 }\n`).message, /routing\.budgets\.perAgent\.b: unknown agent "b"/);
    assert.match(loadError(`${AGENT}routing:\n  routes:\n    - { task: plan, models: [] }\n`).message, /models/);
    assert.match(loadError(`${AGENT}    budget: { tokens: -1 }\n`).message, /budget/);
    assert.match(loadError(`${AGENT}registry:\n  review: { model: embedded }\n`).message, /registry\.review\.model: unknown model provider "embedded"/);
  });

  test('trust settings take trusted or untrusted, nothing else', () => {
    assert.match(loadError(`${AGENT}    inputTrust: maybe\n`).message, /agents\.a\.inputTrust/);
  });

  test('an invalid agent input schema is a startup error, not a 500 later', () => {
    const e = loadError(`${AGENT}    inputSchema: { type: objekt }\n`);
    assert.match(e.message, /inputSchema: invalid JSON Schema/);
    assert.equal(e.line, 7);
  });

  test('interpolation: unset variables and unknown names are errors with lines', () => {
    const e = loadError('dataDir: x\napi:\n  host: ${env.AIRLOCK_NO_SUCH_VAR}\n');
    assert.match(e.message, /AIRLOCK_NO_SUCH_VAR is not set/);
    assert.equal(e.line, 3);
    assert.match(loadError('api:\n  host: ${nope}\n').message, /unknown variable \$\{nope\}/);
  });

  test('bad environment values are refused with the variable name', () => {
    assert.throws(() => loadConfig({ env: { ...env, AIRLOCK_API_PORT: 'eighty' } }), /AIRLOCK_API_PORT/);
    assert.throws(() => loadConfig({ env: { ...env, AIRLOCK_LOG_LEVEL: 'loud' } }), /AIRLOCK_LOG_LEVEL/);
  });

  test('an unreadable file is named', () => {
    assert.throws(
      () => loadConfig({ file: join(dir, 'missing.yaml'), env }),
      (e: unknown) => e instanceof ConfigError && /missing\.yaml/.test(e.message),
    );
  });
});

describe('Temporal connection settings', () => {
  const base = 'temporal:\n  address: temporal.example:7233\n';
  test('the local dev server gets plain gRPC', () => {
    const c = loadConfig({ env });
    assert.deepEqual(temporalConnectionOptions(c, '127.0.0.1:7233'), { address: '127.0.0.1:7233' });
  });
  test('mTLS files are read relative to the config file; missing ones are named with their line', () => {
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    writeFileSync(join(dir, 'client.pem'), 'CRT');
    writeFileSync(join(dir, 'client.key'), 'KEY');
    const f = write(`${base}  tls:\n    serverName: temporal.internal\n    caFile: ca.pem\n    certFile: client.pem\n    keyFile: client.key\n`);
    const c = loadConfig({ file: f, env });
    const o = temporalConnectionOptions(c, c.temporal.address!);
    assert.ok(o.tls && o.tls !== true);
    assert.equal(o.tls.serverNameOverride, 'temporal.internal');
    assert.equal(String(o.tls.serverRootCACertificate), 'CA');
    assert.equal(String(o.tls.clientCertPair!.crt), 'CRT');
    assert.equal(String(readFileSync(join(dir, 'client.key'))), String(o.tls.clientCertPair!.key));
    const missing = loadError(`${base}  tls:\n    caFile: nowhere.pem\n`);
    assert.match(missing.message, /temporal\.tls\.caFile: no such file .*nowhere\.pem/);
    assert.equal(missing.line, 4);
    assert.match(loadError(`${base}  tls:\n    certFile: client.pem\n`).message, /certFile and keyFile go together/);
  });
  test('an API key comes from the named variable, implies TLS, and its absence is an error', () => {
    const f = write(`${base}  apiKeyEnv: MY_TEMPORAL_KEY\n`);
    const c = loadConfig({ file: f, env: { ...env, MY_TEMPORAL_KEY: 'secret-key' } });
    assert.deepEqual(temporalConnectionOptions(c, c.temporal.address!), { address: 'temporal.example:7233', tls: true, apiKey: 'secret-key' });
    const without = loadConfig({ file: f, env });
    assert.throws(() => temporalConnectionOptions(without, without.temporal.address!), /MY_TEMPORAL_KEY is not set/);
  });
});
