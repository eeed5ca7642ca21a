// A run nobody can answer for (no worker polls its task queue) is a clear 503 from GET /v1/runs/:runId (after the
// query's 10 s deadline): the API never waits on an open run's result, which would hold the request until the run ends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestStack, type TestStack } from '../helpers/stack.js';

describe('a run whose worker is down', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack({ parts: { worker: false } });
  });
  after(async () => {
    await s?.cleanup();
  });

  test('GET /v1/runs/:runId is a 503 run_unavailable that says why', async () => {
    const runId = await s.startRun();
    const res = await s.call('GET', `/v1/runs/${runId}`, { token: await s.token('alice') });
    assert.equal(res.status, 503);
    const err = (res.body as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'run_unavailable');
    assert.match(err.message, /did not answer \(is a worker polling its task queue\?\)/);
  });
});
