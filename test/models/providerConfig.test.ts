// Model provider entries in the config file: defaults, and every mistake a startup error naming the file and line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-models-'));
mkdirSync(join(dir, 'policies'));
let n = 0;
const env = { AIRLOCK_DATA_DIR: dir };

function load(models: string) {
  const file = join(dir, `m${n++}.yaml`);
  writeFileSync(file, `# providers\nmodels:\n${models}`);
  return { file, load: () => loadConfig({ file, env }) };
}

function loadError(models: string): ConfigError & { line: number } {
  const { file, load: run } = load(models);
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    assert.equal(err.file, file);
    assert.ok(err.line, `no line in: ${err.message}`);
    assert.ok(err.message.startsWith(`${file}:${err.line}:`), err.message);
    return err as ConfigError & { line: number };
  }
  assert.fail('config loaded');
}

describe('model provider config', () => {
  test('each kind loads, with the documented defaults', () => {
    const c = load(`
  gpt:
    kind: openai
    model: gpt-4o-mini
    apiKeyEnv: OPENAI_API_KEY
  claude:
    kind: anthropic
    baseUrl: https://anthropic.internal.example/
    model: claude-sonnet-4-5
    apiKey: { file: /run/secrets/anthropic }
    residency: eu
    clearance: confidential
    price: { inputPerMTok: 3, outputPerMTok: 15 }
    streaming: true
    maxTokens: 4096
    timeout: 30s
  local:
    kind: ollama
    model: llama3.1
    residency: on-prem
    clearance: restricted
  azure:
    kind: openai
    baseUrl: https://acme.openai.azure.com
    model: gpt-4o
    apiKey: { env: AZURE_OPENAI_KEY }
    azure: { apiVersion: 2024-10-21, deployment: plans }
`).load();
    const { gpt, claude, local, azure } = c.models;
    assert.deepEqual(
      { residency: gpt!.residency, clearance: gpt!.clearance, price: gpt!.price, streaming: gpt!.streaming, maxTokens: gpt!.maxTokens, timeout: gpt!.timeout, temperature: gpt!.temperature },
      { residency: 'unspecified', clearance: 'internal', price: { inputPerMTok: 0, outputPerMTok: 0 }, streaming: false, maxTokens: 1024, timeout: 60_000, temperature: 0 },
    );
    assert.equal(gpt!.kind === 'openai' && gpt!.apiKeyEnv, 'OPENAI_API_KEY');
    assert.deepEqual(
      {
        apiKey: claude!.apiKey,
        residency: claude!.residency,
        clearance: claude!.clearance,
        price: claude!.price,
        streaming: claude!.streaming,
        maxTokens: claude!.maxTokens,
        timeout: claude!.timeout,
      },
      { apiKey: { file: '/run/secrets/anthropic' }, residency: 'eu', clearance: 'confidential', price: { inputPerMTok: 3, outputPerMTok: 15 }, streaming: true, maxTokens: 4096, timeout: 30_000 },
    );
    assert.deepEqual([local!.kind, local!.residency, local!.clearance, local!.apiKey], ['ollama', 'on-prem', 'restricted', undefined]);
    assert.deepEqual(azure!.kind === 'openai' && azure!.azure, { apiVersion: '2024-10-21', deployment: 'plans' });
  });

  const bad: Array<[string, string, RegExp, number]> = [
    ['an unknown kind', `  m:\n    kind: gemini\n    model: x\n`, /models\.m\.kind/, 4],
    ['anthropic without a key', `  m:\n    kind: anthropic\n    model: claude\n`, /models\.m\.apiKey: anthropic needs apiKey/, 4],
    ['a negative price', `  m:\n    kind: ollama\n    model: llama\n    price: { inputPerMTok: -1, outputPerMTok: 0 }\n`, /models\.m\.price\.inputPerMTok/, 6],
    ['an unknown clearance', `  m:\n    kind: ollama\n    model: llama\n    clearance: secret\n`, /models\.m\.clearance/, 6],
    ['a key given as a value', `  m:\n    kind: openai\n    model: gpt\n    apiKey: sk-live-123\n`, /models\.m\.apiKey: expected \{env: NAME\} or \{file: PATH\}/, 6],
    ['a key reference with both env and file', `  m:\n    kind: openai\n    model: gpt\n    apiKey: { env: K, file: /k }\n`, /models\.m\.apiKey/, 6],
    ['apiKey and apiKeyEnv together', `  m:\n    kind: openai\n    model: gpt\n    apiKey: { env: K }\n    apiKeyEnv: K\n`, /give apiKey or apiKeyEnv, not both/, 7],
    ['azure without its endpoint', `  m:\n    kind: openai\n    model: gpt\n    azure: { apiVersion: v, deployment: d }\n`, /azure needs baseUrl/, 6],
    ['a misspelt key', `  m:\n    kind: ollama\n    model: llama\n    max_tokens: 10\n`, /models\.m\.max_tokens: unknown key "max_tokens"/, 6],
    ['a bad timeout', `  m:\n    kind: ollama\n    model: llama\n    timeout: soon\n`, /models\.m\.timeout: expected a positive duration like 500ms/, 6],
    ['an anthropic temperature above 1', `  m:\n    kind: anthropic\n    model: claude\n    apiKey: { env: K }\n    temperature: 1.5\n`, /models\.m\.temperature/, 7],
    ['a baseUrl that is not a URL', `  m:\n    kind: ollama\n    model: llama\n    baseUrl: the ollama box\n`, /models\.m\.baseUrl/, 6],
  ];
  for (const [what, yaml, message, line] of bad) {
    test(`${what} stops startup with the file and line`, () => {
      const e = loadError(yaml);
      assert.match(e.message, message);
      assert.equal(e.line, line, e.message);
    });
  }
});
