import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { costOf, route, RoutingError } from '../../src/models/router.js';

/** The demo config plus three providers and routes per task class and classification. */
const config = loadConfig({
  env: { ...(process.env as Record<string, string>), AIRLOCK_DATA_DIR: '/tmp/airlock-router-test' },
  overrides: (cfg) => {
    const p = (clearance: string, price = { inputPerMTok: 0, outputPerMTok: 0 }) =>
      ({ kind: 'openai', model: 'm', temperature: 0, timeout: 1000, streaming: false, maxTokens: 256, residency: 'x', clearance, price }) as never;
    cfg.models = { cloud: p('internal', { inputPerMTok: 2.5, outputPerMTok: 10 }), 'cloud-mini': p('public'), onprem: p('restricted') };
    cfg.routing.routes = [
      { task: 'classify-sensitivity', models: ['onprem'], reason: 'raw input, unknown sensitivity' },
      { task: 'plan', agents: ['refund-assistant'], classification: ['confidential', 'restricted'], models: ['onprem', 'embedded'] },
      { task: 'plan', classification: ['public', 'internal'], models: ['cloud', 'onprem'] },
      { task: 'summarize', models: ['cloud-mini', 'cloud', 'onprem'] },
      { task: 'extract', classification: ['restricted'], models: ['cloud'] },
      { task: '*', models: ['cloud'] },
    ];
  },
});

test('each task class and classification picks its route, skipping models not cleared for the data', () => {
  const pick = (task: string, classification: 'public' | 'internal' | 'confidential' | 'restricted', agent = 'refund-assistant') => {
    const c = route(config, { task, agent, classification });
    return [c.model, c.route, c.chain.join(',')];
  };
  assert.deepEqual(pick('plan', 'internal'), ['cloud', 2, 'cloud,onprem']);
  assert.deepEqual(pick('plan', 'confidential'), ['onprem', 1, 'onprem,embedded']);
  assert.deepEqual(pick('plan', 'restricted'), ['onprem', 1, 'onprem,embedded']);
  assert.deepEqual(pick('summarize', 'public'), ['cloud-mini', 3, 'cloud-mini,cloud,onprem']);
  assert.deepEqual(pick('summarize', 'internal'), ['cloud', 3, 'cloud,onprem'], 'cloud-mini is cleared for public data only');
  assert.deepEqual(pick('summarize', 'confidential'), ['onprem', 3, 'onprem']);
  assert.deepEqual(pick('classify-sensitivity', 'public'), ['onprem', 0, 'onprem']);
  assert.deepEqual(pick('extract', 'internal'), ['cloud', 5, 'cloud'], 'the extract route is for restricted data only; * catches the rest');
  const s = route(config, { task: 'summarize', agent: 'refund-assistant', classification: 'internal' });
  assert.deepEqual(s.skipped, [{ model: 'cloud-mini', why: 'cleared for public data, the run holds internal' }]);
  assert.match(s.reason, /route 4 \(summarize\); cloud is cleared for internal data/);
});

test('no cleared model fails closed; excluded models fall through the chain until it is exhausted', () => {
  assert.throws(
    () => route(config, { task: 'extract', agent: 'refund-assistant', classification: 'restricted' }),
    (e: unknown) => e instanceof RoutingError && e.kind === 'denied' && /no model of route 5 .* is cleared for restricted data \(cloud: cleared for internal data/.test(e.message),
  );
  const req = { task: 'plan', agent: 'refund-assistant', classification: 'internal' as const };
  assert.equal(route(config, { ...req, exclude: ['cloud'] }).model, 'onprem');
  assert.throws(
    () => route(config, { ...req, exclude: ['cloud', 'onprem'] }),
    (e: unknown) => e instanceof RoutingError && e.kind === 'exhausted',
  );
});

test('with no matching route the agent model serves, and the embedded planner may see any data', () => {
  const noRoutes = { ...config, routing: { ...config.routing, routes: [] } };
  const c = route(noRoutes, { task: 'plan', agent: 'refund-assistant', classification: 'restricted' });
  assert.deepEqual([c.model, c.route], ['embedded', null]);
  assert.match(c.reason, /agent refund-assistant's default model/);
});

test('cost is the price per million tokens', () => {
  assert.equal(costOf(config, 'cloud', { inputTokens: 1_000_000, outputTokens: 100_000 }), 3.5);
  assert.equal(costOf(config, 'embedded', { inputTokens: 5, outputTokens: 5 }), 0);
});
