// Model-assisted review (`registry.review.model`): each new or changed definition goes to a real
// OpenAI-compatible HTTP server (scripted), through the model access layer. suspicious → a finding that
// blocks the pin; benign → nothing, and the normal checks still decide; the provider down → a finding
// (fail closed). The provider's key never appears in a finding.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AirlockConfig } from '../../src/config/load.js';
import { ProviderSchema, type ServerConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { scanAndPin } from '../../src/registry/approve.js';
import { LockStore } from '../../src/registry/lock.js';
import { McpPool } from '../../src/registry/pool.js';
import { parseVerdict, REVIEW_SYSTEM_PROMPT } from '../../src/registry/reviewModel.js';
import { freePort } from '../helpers/ports.js';
import { shopServer } from '../helpers/shop.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../helpers/scriptedOpenAI.js';

const KEY = 'sk-review-secret-4f9a2c71';
const verdict = (v: string, reason: string) => ({ text: JSON.stringify({ verdict: v, reason }) });

describe('model-assisted review at pin time', () => {
  let model: ScriptedOpenAI;
  const pools: McpPool[] = [];
  before(async () => {
    model = await startScriptedOpenAI([verdict('benign', 'looks fine')], { apiKey: KEY });
  });
  after(async () => {
    for (const p of pools) await p.close();
    await model?.close();
  });

  /** A catalog of one shapeshifter server in `mode`, reviewed by the provider at `baseUrl`. */
  function setup(mode: string, baseUrl = model.baseUrl) {
    const servers: Record<string, ServerConfig> = { shop: shopServer(mode) };
    const config = {
      servers,
      registry: { urlAllowlist: [], review: { model: 'reviewer' } },
      models: { reviewer: ProviderSchema.parse({ kind: 'openai', model: 'review-model', baseUrl, apiKey: { env: 'REVIEW_KEY' }, timeout: 10_000 }) },
      env: { REVIEW_KEY: KEY },
    } as unknown as AirlockConfig;
    const file = join(mkdtempSync(join(tmpdir(), 'airlock-model-review-')), 'airlock.lock.json');
    const lock = new LockStore(file);
    const pool = new McpPool(servers, createLogger('silent'), { lock, requirePins: true });
    pools.push(pool);
    return { config, lock, pool, file };
  }

  test('suspicious: a model-review finding with the reason blocks the pin; an override records it', async () => {
    model.setScript([verdict('suspicious', 'the description asks for an unrelated secret')]);
    const before = model.requests.length;
    const { config, lock, pool, file } = setup('honest');
    const r = await scanAndPin(config, pool, lock, ['shop'], 'ops', undefined, undefined, { reviewer: 'ops' });
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    const f = r.findings[0]!.findings;
    assert.deepEqual(
      f.map((x) => [x.tool, x.where, x.kind]),
      [['lookup', 'definition', 'model-review']],
    );
    assert.match(f[0]!.excerpt, /suspicious \(provider "reviewer"\): the description asks for an unrelated secret/);
    // What the model was sent: the review prompt, and the definition as data.
    const req = model.requests[before]!;
    assert.equal(model.requests.length, before + 1, 'one call per new tool');
    assert.equal(req.messages[0]!.content, REVIEW_SYSTEM_PROMPT);
    assert.match(req.messages[1]!.content!, /new tool "lookup":\n<definition>\n[\s\S]*"description": "Looks up an order by id and returns its status\."/);
    assert.equal(model.received.at(-1)!.headers.authorization, `Bearer ${KEY}`);
    const forced = await scanAndPin(config, pool, lock, ['shop'], 'ops', 'reviewed the wording with the vendor', undefined, { reviewer: 'ops' });
    assert.ok(forced.ok);
    const saved = JSON.parse(readFileSync(file, 'utf8')).servers.shop;
    assert.match(saved.override.findings[0], /model-review: suspicious/);
    assert.equal(saved.reviewedBy, 'ops');
  });

  test('benign adds nothing: an honest server is pinned, a poisoned one is still blocked by the scanner', async () => {
    model.setScript([verdict('benign', 'an order lookup')]);
    const honest = setup('honest');
    const ok = await scanAndPin(honest.config, honest.pool, honest.lock, ['shop'], 'ops', undefined, undefined, { reviewer: 'ops' });
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.deepEqual(ok.pinned, [{ server: 'shop', tools: 1, overridden: 0 }]);
    // Pinned and unchanged: nothing new to review, so the model is not asked again.
    const asked = model.requests.length;
    assert.ok((await scanAndPin(honest.config, honest.pool, honest.lock, ['shop'], 'ops')).ok);
    assert.equal(model.requests.length, asked);

    const poisoned = setup('poisoned');
    const r = await scanAndPin(poisoned.config, poisoned.pool, poisoned.lock, ['shop'], 'ops');
    assert.ok(!r.ok, 'a benign verdict is never an approval');
    const kinds = r.findings[0]!.findings.map((f) => f.kind);
    assert.ok(kinds.includes('hidden-instruction') && !kinds.includes('model-review'), kinds.join(', '));
  });

  test('an answer that is not a verdict, and a provider that is down, are findings (fail closed)', async () => {
    model.setScript([{ text: 'I think it is probably fine.' }]);
    const chatty = setup('honest');
    const r1 = await scanAndPin(chatty.config, chatty.pool, chatty.lock, ['shop'], 'ops');
    assert.ok(!r1.ok);
    assert.match(r1.findings[0]!.text, /lookup definition model-review: the model review of shop\.lookup could not be done: provider "reviewer" answered without a verdict/);

    const down = setup('honest', `http://127.0.0.1:${await freePort()}/v1`);
    const r2 = await scanAndPin(down.config, down.pool, down.lock, ['shop'], 'ops');
    assert.ok(!r2.ok);
    assert.match(r2.findings[0]!.text, /model-review: the model review of shop\.lookup could not be done: .*unreachable/);
    assert.ok(!r2.findings[0]!.text.includes(KEY), 'no secret in a finding');
    assert.throws(() => readFileSync(down.file), 'nothing pinned');

    model.setScript([{ status: 401 }]);
    const refused = setup('honest');
    const r3 = await scanAndPin(refused.config, refused.pool, refused.lock, ['shop'], 'ops');
    assert.ok(!r3.ok);
    assert.match(r3.findings[0]!.text, /could not be done: .*HTTP 401/);
    assert.ok(!r3.findings[0]!.text.includes(KEY));
  });

  test('a provider that is not configured is a finding too', async () => {
    const { config, lock, pool } = setup('honest');
    (config.registry as { review?: { model: string } }).review = { model: 'nosuch' };
    const r = await scanAndPin(config, pool, lock, ['shop'], 'ops');
    assert.ok(!r.ok);
    assert.match(r.findings[0]!.text, /could not be done: registry\.review\.model names "nosuch", which is not a provider/);
  });
});

describe('parseVerdict', () => {
  test('reads a JSON verdict, also inside a code fence; anything else is no verdict', () => {
    assert.deepEqual(parseVerdict('{"verdict":"malicious","reason":"asks for ~/.ssh"}'), { verdict: 'malicious', reason: 'asks for ~/.ssh' });
    assert.deepEqual(parseVerdict('```json\n{"verdict": "benign", "reason": "ok"}\n```'), { verdict: 'benign', reason: 'ok' });
    assert.equal(parseVerdict('{"verdict":"fine"}'), undefined);
    assert.equal(parseVerdict('benign'), undefined);
  });
});
