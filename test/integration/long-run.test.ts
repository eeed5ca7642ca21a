// A 200-step run stays well under Temporal's history limits: large results are kept aside as blob
// references, and the run continues as new every 100 steps carrying its record.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SA } from '../../workflows/definitions.js';
import { STEPS_PER_WORKFLOW_RUN } from '../../workflows/runState.js';
import { assertAuditStory } from '../helpers/audit.js';
import { pinServers, shopPolicyDir, shopServer } from '../helpers/shop.js';
import { startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

const STEPS = 200;
const BULKY = new Set([50, 150]);

describe('a 200-step run', () => {
  let s: TestStack;
  const lockFile = join(mkdtempSync(join(tmpdir(), 'airlock-long-')), 'airlock.lock.json');
  before(async () => {
    s = await startTestStack({
      overrides: (cfg) => {
        cfg.policy.dir = shopPolicyDir(['shop', 'vault-shop']);
        cfg.registry.lockFile = lockFile;
        cfg.servers.shop = shopServer('honest');
        // Read once, at the first step: its labels (restricted, untrusted) must outlive the workflow run that saw it.
        cfg.servers['vault-shop'] = { ...shopServer('honest'), classification: 'restricted', trust: 'untrusted' };
        cfg.agents['long-reader'] = {
          ...cfg.agents['refund-assistant']!,
          servers: ['shop', 'vault-shop'],
          // Not the refund agent's onFailure steps: they close a ticket, and this agent has no ticketing server.
          onFailure: [],
          inputSchema: { type: 'object' },
          maxSteps: STEPS + 1,
          // Two lookups return ~3 MB each: more than Temporal's 2 MB payload limit.
          playbook: Array.from({ length: STEPS }, (_, i) => ({ tool: i === 0 ? 'vault-shop.lookup' : 'shop.lookup', args: { orderId: BULKY.has(i) ? 'BULK-3000' : `O-${i}` } })),
        };
      },
    });
    await pinServers(s.config.servers, lockFile, ['shop', 'vault-shop']);
  });
  after(async () => {
    await s?.cleanup();
  });

  test('completes, continues as new, keeps big results out of history, and its audit trail is whole', async () => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'long-reader', input: {} } });
    assert.equal(res.status, 202);
    const runId: string = res.body.runId;
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 600_000);
    assert.equal(done.steps.length, STEPS);
    assert.ok(done.steps.every((x) => x.status === 'completed'));
    // The built-in agent's graph path survives continue-as-new: plan → govern → act per step, then the answer's plan
    // (a plan node that decided to continue as new shows as a plan directly followed by the next run's plan).
    const path = done.path ?? [];
    assert.deepEqual(
      path.filter((n, i) => !(n === 'plan' && path[i + 1] === 'plan')),
      [...Array.from({ length: STEPS }, () => ['plan', 'govern', 'act']).flat(), 'plan'],
    );
    for (const i of BULKY) {
      const data = done.steps[i]!.result!.data as { $blob?: string; bytes?: number };
      assert.match(String(data.$blob), /^sha256:[0-9a-f]{64}$/, `step ${i} result is a reference`);
      assert.ok(data.bytes! > 3_000_000);
      assert.ok(existsSync(join(s.dataDir, 'blobs', data.$blob!.slice(7, 9), `${data.$blob!.slice(7)}.json`)));
    }

    // Every workflow run of the chain, and its history.
    const runs: string[] = [];
    for await (const wf of s.client.workflow.list({ query: `WorkflowId = '${runId}'` })) runs.push(wf.runId);
    // At least every STEPS_PER_WORKFLOW_RUN steps, sooner when Temporal suggests it.
    assert.ok(runs.length >= Math.ceil(STEPS / STEPS_PER_WORKFLOW_RUN), `continued as new: ${runs.length} workflow runs`);
    assert.equal(path.length - (STEPS * 3 + 1), runs.length - 1, 'one plan node per continuation');
    let largestHistory = 0;
    let largestEvent = 0;
    for (const r of runs) {
      const history = await s.client.workflow.getHandle(runId, r).fetchHistory();
      const events = history.events ?? [];
      const size = JSON.stringify(history).length;
      largestHistory = Math.max(largestHistory, size);
      for (const e of events) largestEvent = Math.max(largestEvent, JSON.stringify(e).length);
      assert.ok(events.length < 10_000, `${events.length} events in one run`);
    }
    assert.ok(largestHistory < 10 * 1024 * 1024, `largest history ${largestHistory} bytes (the limit is 50 MB)`);
    assert.ok(largestEvent < 256 * 1024, `largest event ${largestEvent} bytes (the payload limit is 2 MB)`);

    // Labels only rise, across continue-as-new too: the last workflow run never read vault-shop, yet holds what it brought.
    assert.deepEqual(done.labels, { classification: 'restricted', servers: ['shop', 'vault-shop'], untrusted: true, untrustedSources: ['vault-shop.lookup'] });
    const last = await s.client.workflow.getHandle(runId).describe();
    assert.equal(last.typedSearchAttributes.get(SA.classification), 'restricted');
    assert.equal(last.typedSearchAttributes.get(SA.untrusted), true);

    await waitFor(
      async () => (await s.call('GET', `/v1/runs/${runId}/audit`, { token: await s.token('olivia') })).body.records.at(-1)?.type,
      (t) => t === 'run.completed',
      30_000,
      'run.completed recorded',
    );
    await assertAuditStory(s, done);
  });
});
