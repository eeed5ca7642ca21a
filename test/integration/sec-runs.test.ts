// Starting runs safely: an Idempotency-Key is bound to its first body and never starts a second run;
// onBehalfOf names only subjects the identity provider knows; deep bodies are a 400; /openapi.json never
// echoes the Host header.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEMO_INPUT, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

describe('starting runs: idempotency, onBehalfOf, body depth, OpenAPI server URL', () => {
  let s: TestStack;
  let directoryFile: string;
  before(async () => {
    directoryFile = join(mkdtempSync(join(tmpdir(), 'airlock-dir-')), 'people.yaml');
    writeFileSync(directoryFile, '- yuri\n');
    s = await startTestStack({
      overrides: (cfg) => {
        cfg.identity.directory = { subjects: ['zoe'], file: directoryFile };
      },
    });
  });
  after(async () => {
    await s?.cleanup();
  });

  const key = () => `sec-${randomBytes(8).toString('hex')}`;
  const start = async (idempotencyKey: string, body: Record<string, unknown>, user = 'alice') =>
    s.call('POST', '/v1/runs', { token: await s.token(user), headers: { 'idempotency-key': idempotencyKey }, body: { agent: 'refund-assistant', ...body } });

  test('the same key and body while the run is in flight returns that run; another body under the key is 422', async () => {
    const k = key();
    const first = await start(k, { input: DEMO_INPUT });
    assert.equal(first.status, 202);
    const runId = first.body.runId as string;
    const again = await start(k, { input: DEMO_INPUT });
    assert.equal(again.status, 200);
    assert.equal(again.body.runId, runId);
    const other = await start(k, { input: { ...DEMO_INPUT, message: 'something else' } });
    assert.equal(other.status, 422);
    assert.match(other.body.error.message, /Idempotency-Key was already used with a different request body/);
    // Another requester's same key is their own run.
    const dave = await start(k, { input: DEMO_INPUT }, 'dave');
    assert.equal(dave.status, 202);
    assert.notEqual(dave.body.runId, runId);
    // The first run went on alone: one run, waiting for its approval.
    const v = await s.waitForRun(runId, (x) => x.status === 'awaiting_approval');
    assert.equal(v.requester, 'alice');
  });

  test('after the run has ended, the same key and body return that run and start nothing', async () => {
    const k = key();
    const first = await start(k, { input: DEMO_INPUT });
    assert.equal(first.status, 202);
    const runId = first.body.runId as string;
    await s.waitForRun(runId, (x) => x.status === 'awaiting_approval');
    assert.equal((await s.call('POST', `/v1/runs/${runId}/cancel`, { token: await s.token('alice') })).status, 202);
    const ended = await s.waitForRun(runId, (x) => x.status === 'cancelled');
    const again = await start(k, { input: DEMO_INPUT });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { runId, status: 'cancelled' });
    // Still the one cancelled run: the agent did not run again.
    const v = (await s.call('GET', `/v1/runs/${runId}`, { token: await s.token('olivia') })).body;
    assert.equal(v.status, 'cancelled');
    assert.deepEqual(
      v.steps.map((x: { tool: string }) => x.tool),
      ended.steps.map((x: { tool: string }) => x.tool),
    );
    assert.equal((await start(k, { input: { ...DEMO_INPUT, customerId: 'C-1002' } })).status, 422);
  });

  test('a key whose run Temporal has since deleted (retention) never starts the agent again', async () => {
    const k = key();
    const first = await start(k, { input: DEMO_INPUT });
    assert.equal(first.status, 202);
    const runId = first.body.runId as string;
    await s.waitForRun(runId, (x) => x.status === 'awaiting_approval');
    await s.client.workflowService.deleteWorkflowExecution({ namespace: s.config.temporal.namespace, workflowExecution: { workflowId: runId } });
    await waitFor(
      () =>
        s.client.workflow
          .getHandle(runId)
          .describe()
          .then(
            () => 'present',
            (err: Error) => err.name,
          ),
      (v) => v === 'WorkflowNotFoundError',
      30_000,
      'run deleted',
    );
    const again = await start(k, { input: DEMO_INPUT });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /no longer kept/);
    assert.equal(
      await s.client.workflow
        .getHandle(runId)
        .describe()
        .then(
          () => 'present',
          (err: Error) => err.name,
        ),
      'WorkflowNotFoundError',
    );
  });

  test('a malformed Idempotency-Key is a 400', async () => {
    const res = await start('has space', { input: DEMO_INPUT });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /Idempotency-Key/);
  });

  test('onBehalfOf: known subjects (dev users, directory.subjects, directory.file) only', async () => {
    const bot = await s.token('helpdesk-bot');
    const onBehalf = (who: string) => s.call('POST', '/v1/runs', { token: bot, body: { agent: 'refund-assistant', input: DEMO_INPUT, onBehalfOf: who } });
    for (const who of ['alice', 'zoe', 'yuri']) assert.equal((await onBehalf(who)).status, 202, who);
    const unknown = await onBehalf('mallory');
    assert.equal(unknown.status, 403);
    assert.match(unknown.body.error.message, /"mallory" is not a subject the identity provider knows/);
    // The file is re-read when it changes.
    writeFileSync(directoryFile, '["yuri", "mallory-the-new-hire"]\n');
    assert.equal((await onBehalf('mallory-the-new-hire')).status, 202);
  });

  test('a body nested 10,000 deep is a 400 with the reason', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: `{"agent":"refund-assistant","input":{"x":${deep}}}` });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /nests deeper than 64 levels/);
    const shallow = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent: 'refund-assistant', input: { ...DEMO_INPUT, extra: [[[1]]] } } });
    assert.notEqual(shallow.status, 500);
  });

  test('/openapi.json does not echo the Host header', async () => {
    const url = new URL('/openapi.json', s.apiUrl);
    const body = await new Promise<string>((res, rej) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: 'evil.example:666' } }, (r) => {
        let text = '';
        r.on('data', (d: Buffer) => (text += d.toString()));
        r.on('end', () => res(text));
      });
      req.on('error', rej);
      req.end();
    });
    assert.doesNotMatch(body, /evil\.example/);
    const doc = JSON.parse(body) as { servers: Array<{ url: string }>; paths: Record<string, unknown> };
    assert.deepEqual(doc.servers, [{ url: '/' }]);
    assert.ok(doc.paths['/v1/revocations']);
  });
});
