// Temporal access is not data access: payloads are encrypted before they reach Temporal, so a client without the
// keys (the Temporal CLI, the Web UI, anyone with the frontend's address) sees ciphertext in the history, the memo
// and query answers. Operators read them through the API's codec endpoint, the way the Temporal UI calls it.
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import { temporalCli } from '../../src/temporal/binary.js';
import { fetchHistories, replayHistories, temporalClient } from '../../src/worker/replay.js';
import { getRunQuery } from '../../workflows/definitions.js';
import { DEMO_INPUT, startTestStack, type TestStack } from '../helpers/stack.js';

const EMAIL = 'jane.customer@example.com';
const UI = 'http://127.0.0.1:8233';
type WirePayload = { metadata?: Record<string, string>; data?: string };
const meta = (p: WirePayload, k: string) => Buffer.from(p.metadata?.[k] ?? '', 'base64').toString();
const text = (p: WirePayload) => Buffer.from(p.data ?? '', 'base64').toString();
/** The workflow input's payloads of a history in proto3 JSON (what `temporal workflow show --output json` and the UI handle). */
const startInput = (json: string) =>
  (JSON.parse(json) as { events: Array<Record<string, { input?: { payloads: WirePayload[] } }>> }).events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads;

describe('encrypted payloads in Temporal (real stack)', () => {
  let s: TestStack;
  let plain: Client;
  let connection: Connection;
  let runId: string;
  before(async () => {
    s = await startTestStack();
    connection = await Connection.connect({ address: s.temporalAddress });
    // What someone with Temporal access but no keys has: a client with the default data converter.
    plain = new Client({ connection, namespace: s.config.temporal.namespace });
    runId = await s.startRun({ ...DEMO_INPUT, message: `Customer was double charged; reply to ${EMAIL}.` });
    // It reads the account (customer contacts) and waits for a finance approval: the memo holds the pending approval.
    await s.waitForRun(runId, (v) => v.status === 'awaiting_approval', 120_000);
  });
  after(async () => {
    await connection?.close();
    await s?.cleanup();
  });

  /** The history's input payloads, as proto3 JSON (what the Temporal UI sends to the codec). */
  const inputPayloads = async (client: Client) => startInput(historyToJSON(await client.workflow.getHandle(runId).fetchHistory()));
  const codec = (op: string, opts: { token?: string; origin?: string; namespace?: string; body?: unknown; method?: string } = {}) =>
    fetch(`${s.apiUrl}/codec/${op}`, {
      method: opts.method ?? 'POST',
      headers: {
        'content-type': 'application/json',
        ...(opts.origin ? { origin: opts.origin } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        'x-namespace': opts.namespace ?? 'default',
      },
      body: opts.method === 'OPTIONS' ? undefined : JSON.stringify(opts.body ?? { payloads: [] }),
    });

  test('a client without the keys sees ciphertext: history, memo and the getRun query', async () => {
    const history = historyToJSON(await plain.workflow.getHandle(runId).fetchHistory());
    for (const secret of [EMAIL, 'wile.coyote@acme.example', 'C-1001', 'INV-2001', 'Acme Corp', 'dana.whitfield']) assert.ok(!history.includes(secret), `${secret} is readable in the history`);
    const [input] = await inputPayloads(plain);
    assert.equal(meta(input!, 'encoding'), 'binary/encrypted');
    assert.match(meta(input!, 'encryption-key-id'), /^local-[0-9a-f]{8}$/);
    const raw = await connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: runId } });
    for (const [k, p] of Object.entries(raw.workflowExecutionInfo!.memo!.fields!)) assert.equal(Buffer.from(p.metadata!.encoding!).toString(), 'binary/encrypted', `memo ${k}`);
    await assert.rejects(plain.workflow.getHandle(runId).query(getRunQuery), /binary\/encrypted/);
  });

  test("the stack's own client reads the same history in clear", async () => {
    const [input] = await inputPayloads(s.client);
    assert.equal(meta(input!, 'encoding'), 'json/plain');
    assert.ok(text(input!).includes(EMAIL));
    assert.equal((await s.client.workflow.getHandle(runId).query(getRunQuery)).status, 'awaiting_approval');
    assert.ok(JSON.stringify(await s.client.workflow.getHandle(runId).fetchHistory()).length > 0);
  });

  test('the codec endpoint decodes for an operator the way the Temporal UI calls it (preflight, Origin, Bearer)', async () => {
    const pre = await codec('decode', { method: 'OPTIONS', origin: UI });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), UI);
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /X-Namespace/i);

    const payloads = await inputPayloads(plain);
    const res = await codec('decode', { origin: UI, token: await s.token('olivia'), body: { payloads } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), UI);
    const body = (await res.json()) as { payloads: WirePayload[] };
    assert.equal(meta(body.payloads[0]!, 'encoding'), 'json/plain');
    assert.ok(text(body.payloads[0]!).includes(EMAIL));

    // encode → decode round trip, as the UI does for a signal's input.
    const json = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"x":1}').toString('base64') };
    const enc = (await (await codec('encode', { origin: UI, token: await s.token('adam'), body: { payloads: [json] } })).json()) as { payloads: WirePayload[] };
    assert.equal(meta(enc.payloads[0]!, 'encoding'), 'binary/encrypted');
    const back = (await (await codec('decode', { token: await s.token('adam'), body: enc })).json()) as { payloads: WirePayload[] };
    assert.deepEqual(back.payloads, [json]);
  });

  test('the codec endpoint refuses: no token 401, a requester 403, another namespace, another origin, a bad body', async () => {
    const payloads = await inputPayloads(plain);
    const none = await codec('decode', { origin: UI, body: { payloads } });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('access-control-allow-origin'), UI, 'the UI can read why');
    const requester = await codec('decode', { origin: UI, token: await s.token('alice'), body: { payloads } });
    assert.equal(requester.status, 403);
    assert.ok(!(await requester.text()).includes(Buffer.from(EMAIL).toString('base64').slice(0, 12)));
    assert.match(
      ((await (await codec('decode', { token: await s.token('olivia'), namespace: 'other', body: { payloads } })).json()) as { error: { message: string } }).error.message,
      /namespace default, not other/,
    );
    assert.equal((await codec('decode', { method: 'OPTIONS', origin: 'https://evil.example' })).status, 403);
    assert.equal((await codec('decode', { origin: 'https://evil.example', token: await s.token('olivia'), body: { payloads } })).status, 403);
    const bad = await codec('decode', { token: await s.token('olivia'), body: { payloads: [{ data: 'not base64!' }] } });
    assert.equal(bad.status, 400);
    const tampered = { ...payloads[0]!, data: Buffer.from(Buffer.from(payloads[0]!.data!, 'base64').map((b, i) => (i === 20 ? b ^ 1 : b))).toString('base64') };
    const refused = await codec('decode', { token: await s.token('olivia'), body: { payloads: [tampered] } });
    assert.equal(refused.status, 422);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /does not decrypt/);
  });

  test('airlock replay: --fetch writes decoded histories; an encrypted export replays with the configured keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-codec-replay-'));
    try {
      const { client, close } = await temporalClient(s.config);
      let fetched: string;
      try {
        [fetched] = (await fetchHistories(client, [runId], dir)) as [string];
      } finally {
        await close();
      }
      const [input] = startInput(readFileSync(fetched, 'utf8'));
      assert.ok(text(input!).includes(EMAIL));
      assert.ok(!readFileSync(fetched, 'utf8').includes(Buffer.from('binary/encrypted').toString('base64')), 'no encrypted payload left');
      // As `temporal workflow show --output json` exports it without a codec: ciphertext.
      const exported = join(dir, 'exported.json');
      writeFileSync(exported, historyToJSON(await plain.workflow.getHandle(runId).fetchHistory()));
      const results = await replayHistories(s.config, [fetched, exported]);
      assert.deepEqual(
        results.map((r) => [r.ok, r.error]),
        [
          [true, undefined],
          [true, undefined],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the temporal CLI shows the history in clear through the codec endpoint, and only with a token', async () => {
    const cli = temporalCli({ root: ROOT, env: process.env });
    // Asynchronously: the CLI calls this process's API while it runs.
    const show = (...extra: string[]) =>
      promisify(execFile)(
        cli,
        ['workflow', 'show', '--address', s.temporalAddress, '--namespace', 'default', '--workflow-id', runId, '--output', 'json', '--codec-endpoint', `${s.apiUrl}/codec`, ...extra],
        {
          timeout: 60_000,
        },
      ).then(
        (r) => ({ ok: true, out: r.stdout + r.stderr }),
        (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout}${e.stderr}` }),
      );
    const ok = await show('--codec-auth', `Bearer ${await s.token('olivia')}`);
    assert.ok(ok.ok, ok.out);
    const [input] = startInput(ok.out);
    assert.equal(meta(input!, 'encoding'), 'json/plain');
    assert.ok(text(input!).includes(EMAIL));
    // Without a token the codec answers 401: the CLI fails, with nothing in clear.
    const denied = await show();
    assert.ok(!denied.ok && !denied.out.includes(Buffer.from('json/plain').toString('base64')), denied.out.slice(0, 2000));
  });
});
