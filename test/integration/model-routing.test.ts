// Model routing on real runs: three providers behind their own wire formats (OpenAI, Anthropic,
// Ollama), routed by data classification, falling back on 429 / 500 / timeouts, and stopped by budgets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startScriptedAnthropic } from '../helpers/scriptedAnthropic.js';
import type { ScriptReply } from '../helpers/scriptedCommon.js';
import { startScriptedOllama } from '../helpers/scriptedOllama.js';
import { startScriptedOpenAI } from '../helpers/scriptedOpenAI.js';
import { startTestStack, waitFor, type TestStack } from '../helpers/stack.js';
import { runAudit } from '../helpers/audit.js';

type Server = { baseUrl: string; requests: unknown[]; close(): Promise<void> };

/** The scenario of the run a request belongs to, and how many tool results it carries. */
function parse(body: unknown): { scenario: string; results: number; text: string } {
  const text = JSON.stringify(body);
  return { scenario: /\\"scenario\\":\\"([a-z-]+)\\"/.exec(text)?.[1] ?? '', results: text.split('<tool-result step=').length - 1, text };
}

/** Plays a run: look up a ticket, then the CRM account, then answer. */
function play(results: number): ScriptReply {
  if (results === 0) return { toolCall: { name: 'ticketing__get_ticket', args: { ticketId: 'T-5001' } } };
  if (results === 1) return { toolCall: { name: 'crm__get_account', args: { accountId: 'C-1001' } } };
  return { text: 'The ticket belongs to Acme Corp.' };
}

describe('model routing across providers', () => {
  let s: TestStack;
  let cloudA: Server;
  let cloudB: Server;
  let onprem: Server;
  const failedOnce = new Set<string>();

  before(async () => {
    // cloud-a (OpenAI wire): rate-limits the first call of `fallback`, fails with 500 the first of `flaky`.
    cloudA = await startScriptedOpenAI((body) => {
      const { scenario, results } = parse(body);
      if (scenario === 'fallback' && !failedOnce.has('a-429')) return (failedOnce.add('a-429'), { status: 429 });
      if (scenario === 'flaky' && !failedOnce.has('a-500')) return (failedOnce.add('a-500'), { status: 500 });
      return play(results);
    });
    // cloud-b (Anthropic wire): hangs for `flaky` (the provider times out).
    cloudB = await startScriptedAnthropic((body) => (parse(body).scenario === 'flaky' ? { hang: true } : play(parse(body).results)), { apiKey: 'sk-ant-test-key-0123456789' });
    onprem = await startScriptedOllama((body) => play(parse(body).results));
    s = await startTestStack({
      env: { AIRLOCK_TEST_ANTHROPIC_KEY: 'sk-ant-test-key-0123456789' },
      overrides: (cfg) => {
        // Overrides apply to the parsed config: every field is given.
        const common = { temperature: 0, timeout: 60_000, streaming: false, maxTokens: 256, price: { inputPerMTok: 0, outputPerMTok: 0 } };
        cfg.models['cloud-a'] = {
          ...common,
          kind: 'openai',
          baseUrl: cloudA.baseUrl,
          model: 'gpt-test',
          clearance: 'internal',
          residency: 'us',
          price: { inputPerMTok: 1000, outputPerMTok: 2000 },
        } as never;
        cfg.models['cloud-b'] = {
          ...common,
          kind: 'anthropic',
          baseUrl: cloudB.baseUrl,
          model: 'claude-test',
          apiKey: { env: 'AIRLOCK_TEST_ANTHROPIC_KEY' },
          clearance: 'internal',
          residency: 'eu',
          timeout: 1500,
        } as never;
        cfg.models.onprem = { ...common, kind: 'ollama', baseUrl: onprem.baseUrl, model: 'llama-test', clearance: 'restricted', residency: 'on-prem' } as never;
        const base = { ...cfg.agents['refund-assistant']!, servers: ['ticketing', 'crm'], inputSchema: { type: 'object' }, playbook: [] };
        cfg.agents['router-bot'] = { ...base, model: 'cloud-a' };
        cfg.agents['leaky-bot'] = { ...base, model: 'cloud-a' };
        cfg.agents['budget-bot'] = { ...base, model: 'onprem', budget: { tokens: 100 } };
        cfg.agents['thrifty-bot'] = { ...base, model: 'onprem' };
        cfg.routing = {
          routes: [
            { task: 'plan', agents: ['router-bot'], classification: ['public', 'internal'], models: ['cloud-a', 'cloud-b'], reason: 'internal data may use cloud models' },
            { task: 'plan', agents: ['router-bot'], classification: ['confidential', 'restricted'], models: ['onprem'], reason: 'sensitive data stays on-prem' },
          ],
          budgets: { perAgent: { 'thrifty-bot': { tokens: 150, window: 86_400_000 } } },
        } as never;
      },
    });
  });
  after(async () => {
    await s?.cleanup();
    for (const x of [cloudA, cloudB, onprem]) await x?.close();
  });

  const run = async (agent: string, scenario: string) => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent, input: { scenario } } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.runId as string;
  };
  const planAttempts = async (runId: string) => {
    const history = await s.client.workflow.getHandle(runId).fetchHistory();
    return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'plan').length;
  };

  test('internal data goes to the cloud route, falling back from a 429; confidential data only ever reaches on-prem', async () => {
    const runId = await run('router-bot', 'fallback');
    const done = await s.waitForRun(runId, (v) => v.status === 'completed');
    assert.deepEqual(
      [...done.steps.map((x) => [x.tool, x.model!.provider, x.model!.classification]), ['final', done.finalModel!.provider, done.finalModel!.classification]],
      [
        ['ticketing.get_ticket', 'cloud-b', 'internal'],
        ['crm.get_account', 'cloud-a', 'internal'],
        ['final', 'onprem', 'confidential'],
      ],
    );
    assert.match(done.finalModel!.reason, /route 2 \(plan for confidential\/restricted: sensitive data stays on-prem\)/);
    assert.equal(await planAttempts(runId), 4, 'the rate-limited attempt is its own activity in history');
    // The cloud models never saw the CRM account.
    for (const r of [...cloudA.requests, ...cloudB.requests]) assert.ok(!JSON.stringify(r).includes('Acme Corp'), 'confidential data reached a cloud model');
    assert.ok(onprem.requests.some((r) => JSON.stringify(r).includes('Acme Corp')));
    // Tokens and cost on the run and in the audit trail.
    assert.deepEqual(done.usage, { calls: 3, inputTokens: 150, outputTokens: 30, costUsd: 0.07 });
    const routed = (await runAudit(s, runId)).filter((r) => r.type === 'model.routed');
    assert.deepEqual(
      routed.map((r) => [r.data.model, r.outcome, r.data.error ?? null]),
      [
        ['cloud-a', 'error', 'rate_limit'],
        ['cloud-b', 'success', null],
        ['cloud-a', 'success', null],
        ['onprem', 'success', null],
      ],
    );
    assert.equal(routed[2]!.data.costUsd, 0.07);
  });

  test('after a 500 and a timeout the chain is retried after a pause, within the run', async () => {
    const runId = await run('router-bot', 'flaky');
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 90_000);
    assert.equal(done.steps[0]!.model!.provider, 'cloud-a');
    const routed = (await runAudit(s, runId)).filter((r) => r.type === 'model.routed');
    assert.deepEqual(
      routed.slice(0, 3).map((r) => [r.data.model, r.outcome, r.data.error ?? null]),
      [
        ['cloud-a', 'error', 'server'],
        ['cloud-b', 'error', 'timeout'],
        ['cloud-a', 'success', null],
      ],
    );
  });

  test('clearance is checked before the read: a result the planning model may not see is never fetched', async () => {
    // leaky-bot has no route: its default model (cloud-a, cleared for internal) may not see a CRM (confidential) result,
    // so the CRM read is refused before it runs, not after.
    const runId = await run('leaky-bot', 'leak');
    const done = await s.waitForRun(runId, (v) => v.status === 'failed');
    assert.equal(done.error!.type, 'PolicyDenied');
    assert.match(done.error!.message, /crm\.get_account denied: the result of crm\.get_account \(confidential\) could not be shown to the run's planning model/);
    assert.match(done.error!.message, /cleared for internal data, the run holds confidential/);
    assert.deepEqual(
      done.steps.map((x) => [x.tool, x.status]),
      [
        ['ticketing.get_ticket', 'completed'],
        ['crm.get_account', 'denied'],
      ],
    );
    assert.equal(done.steps[1]!.result, undefined, 'the CRM was never called');
    assert.deepEqual(done.labels?.servers, ['ticketing'], 'the run never held CRM data');
    const mine = cloudA.requests.filter((r) => parse(r).scenario === 'leak');
    assert.equal(mine.length, 2, 'two plans on internal data; none after');
    for (const r of mine) assert.ok(!JSON.stringify(r).includes('Acme Corp'), 'confidential data reached a cloud model');
  });

  test('a per-run budget ends the run mid-way with BudgetExceeded; a per-agent budget stops the next run', async () => {
    const over = await s.waitForRun(await run('budget-bot', 'budget'), (v) => v.status === 'failed');
    assert.equal(over.error!.type, 'BudgetExceeded');
    assert.match(over.error!.message, /used 120 model tokens; its budget is 100/);
    assert.equal(over.steps.length, 2, 'stopped before the third model call');

    // The agent's window allows 150 tokens: the first run starts its last call at 120 and ends at 180.
    const first = await s.waitForRun(await run('thrifty-bot', 'thrifty'), (v) => v.status === 'completed');
    assert.equal(first.usage.inputTokens + first.usage.outputTokens, 180);
    const calls = onprem.requests.length;
    const second = await s.waitForRun(await run('thrifty-bot', 'thrifty'), (v) => v.status === 'failed');
    assert.equal(second.error!.type, 'BudgetExceeded');
    assert.match(second.error!.message, /agent thrifty-bot has used 180 tokens .* its budget is 150 tokens/);
    assert.equal(second.steps.length, 0);
    assert.equal(onprem.requests.length, calls, 'no model call at all');
    await waitFor(
      () => runAudit(s, second.runId),
      (r) => r.at(-1)?.type === 'run.failed',
      15_000,
      'run.failed recorded',
    );
  });
});
