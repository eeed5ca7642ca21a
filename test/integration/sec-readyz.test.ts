// /readyz notices a dead worker within seconds (its heartbeat goes stale), not minutes later when Temporal
// forgets its pollers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWorkerHeartbeat } from '../../src/worker/heartbeat.js';
import { startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

describe('/readyz and a worker that stops', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack();
    // What src/worker/worker.ts does for every worker it creates (idempotent if it already does).
    startWorkerHeartbeat({ config: s.config, worker: s.worker!.worker });
  });
  after(async () => {
    await s?.cleanup();
  });

  test('ready with a live worker; 503 within seconds of the worker stopping', async () => {
    const ready = await waitFor(
      () => s.call('GET', '/readyz'),
      (r) => r.status === 200,
      30_000,
      'readyz 200',
    );
    assert.deepEqual(ready.body, { temporal: true, worker: true });
    await s.worker!.shutdown();
    // Temporal still lists the stopped worker's pollers for minutes; the heartbeat is stale after ~10 s.
    const down = await waitFor(
      () => s.call('GET', '/readyz'),
      (r) => r.status === 503,
      30_000,
      'readyz 503',
    );
    assert.deepEqual(down.body, { temporal: true, worker: false });
  });
});
