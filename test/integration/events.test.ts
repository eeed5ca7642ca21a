// GET /v1/events against the whole stack: an approver's stream carries their group's approval as the run asks for
// it, and its decision; an approver of another group and the requester never get it (the requester follows the
// run's status instead); a reconnect with Last-Event-ID resumes where the stream left off; a second API process on
// the same audit store (another replica) streams the same events.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { openAuditStore } from '../../src/audit/index.js';
import type { AuditStore } from '../../src/audit/types.js';
import { createLogger } from '../../src/log/logger.js';
import { PG_URL } from '../audit/helpers.js';
import { openStream, type SseEvent, type SseStream } from '../helpers/sse.js';
import { DEMO_INPUT, startTestStack, type TestStack } from '../helpers/stack.js';

describe('event stream', () => {
  let s: TestStack;
  const streams: SseStream[] = [];
  let replica: { server: Server; audit: AuditStore; close(): Promise<void> } | undefined;
  before(async () => {
    s = await startTestStack();
  });
  after(async () => {
    for (const st of streams) st.close();
    if (replica) {
      await new Promise<void>((r) => replica!.server.close(() => r()));
      await replica.close();
      await replica.audit.close();
    }
    await s?.cleanup();
  });

  const open = async (user: string, base = s.apiUrl, lastEventId?: string) => {
    const st = await openStream(`${base}/v1/events`, { token: await s.token(user), ...(lastEventId ? { lastEventId } : {}) });
    streams.push(st);
    assert.equal(st.status, 200);
    return st;
  };
  const of = (runId: string, type: string, status?: string) => (e: SseEvent) => e.data.runId === runId && e.event === type && (status === undefined || e.data.status === status);

  test('needs a token; unknown filters are a 400', async () => {
    assert.equal((await openStream(`${s.apiUrl}/v1/events`)).status, 401);
    const bad = await openStream(`${s.apiUrl}/v1/events?types=approval.nope`, { token: await s.token('bob') });
    assert.equal(bad.status, 400);
  });

  test('approvals reach their group; the requester and other groups see only what they may; decisions and run status follow', async () => {
    const bob = await open('bob'); // finance: decides refunds
    const erin = await open('erin'); // finance-leads: another group (until an escalation, days away)
    const alice = await open('alice'); // the requester
    assert.match(bob.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(bob.headers.get('cache-control'), 'no-cache, no-transform');
    assert.ok(bob.retry && bob.retry > 0, 'a retry hint');

    const runId = await s.startRun();
    const requested = await bob.next(of(runId, 'approval.requested'), 60_000, 'approval.requested for bob');
    assert.equal(requested.data.requiredGroup, 'finance');
    assert.equal(requested.data.tool, 'billing.issue_refund');
    assert.equal(requested.data.agent, 'refund-assistant');
    assert.match(requested.data.approvalId, new RegExp(`^${runId}\\.a\\d+$`));
    assert.equal(requested.data.args, undefined, 'args stay in the approval, not on the stream');
    assert.equal(requested.id, requested.id && String(Number(requested.id)), 'the id is the audit position');
    await alice.next(of(runId, 'run.status', 'awaiting_approval'), 30_000, 'awaiting_approval for alice');

    const decided = await s.call('POST', `/v1/approvals/${requested.data.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const settled = await bob.next(of(runId, 'approval.decided'), 30_000, 'approval.decided for bob');
    assert.deepEqual([settled.data.status, settled.data.decision, settled.data.by], ['approved', 'approve', 'bob']);
    for (const st of [bob, erin, alice]) await st.next(of(runId, 'run.status', 'completed'), 60_000, 'run completed');

    // Each stream is in audit order, so once a stream shows the run's end it has shown everything before it.
    const approvalEvents = (st: SseStream) => st.events.filter((e) => e.data.runId === runId && e.event.startsWith('approval.'));
    assert.deepEqual(approvalEvents(erin), [], 'another group’s approver gets nothing of this approval');
    assert.deepEqual(approvalEvents(alice), [], 'the requester gets no approval events');
    assert.deepEqual(
      alice.events.filter((e) => e.data.runId === runId).map((e) => e.data.status),
      ['running', 'awaiting_approval', 'completed'],
    );
    // Without `notifications:` configured, the run schedules no notification and records no patch marker for them.
    const history = await s.client.workflow.getHandle(runId).fetchHistory();
    assert.ok(!(history.events ?? []).some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notify'));
    assert.ok(!JSON.stringify(history).includes('airlock-notify'));
    const ids = bob.events.map((e) => Number(e.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'ids rise',
    );

    // A reconnect after the request resumes with what came later, and only that.
    const resumed = await open('bob', s.apiUrl, requested.id);
    await resumed.next(of(runId, 'run.status', 'completed'), 30_000, 'replayed completion');
    const replayed = resumed.events.filter((e) => e.data.runId === runId);
    assert.ok(!replayed.some((e) => e.event === 'approval.requested'), 'not the request again');
    assert.ok(replayed.some((e) => e.event === 'approval.decided'));
    assert.ok(replayed.every((e) => Number(e.id) > Number(requested.id)));
  });

  test('another API process on the same audit store streams the same events (replicas share the store, not memory)', async () => {
    const audit = await openAuditStore(s.config);
    const deps = createApiDeps({ config: s.config, client: s.client, verifier: s.issuer, log: createLogger('silent'), audit });
    const server = await new Promise<Server>((res) => {
      const srv = createApp(deps).listen(0, '127.0.0.1', () => res(srv));
    });
    replica = { server, audit, close: deps.close };
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const carol = await open('carol', url);
    const runId = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 600 });
    const requested = await carol.next(of(runId, 'approval.requested'), 60_000, 'the request, on the other replica');
    // Server shutdown ends open streams (deps.close ends them; the stack does so before server.close).
    deps.events.close();
    await carol.ended;
    await s.call('POST', `/v1/approvals/${requested.data.approvalId}/decision`, { token: await s.token('carol'), body: { decision: 'reject' } });
    await s.waitForRun(runId, (v) => v.status === 'rejected');
  });
});

describe('event stream on PostgreSQL', () => {
  let s: TestStack;
  let stream: SseStream | undefined;
  const schema = `events_it_${Date.now().toString(36)}`;
  before(async () => {
    s = await startTestStack({ env: { AIRLOCK_AUDIT_DATABASE_URL: PG_URL, AIRLOCK_AUDIT_SCHEMA: schema } });
  });
  after(async () => {
    stream?.close();
    await s?.cleanup();
    const pg = new (await import('pg')).default.Client({ connectionString: PG_URL });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pg.end();
  });

  test('the approval and the run’s end reach the approver from the shared PostgreSQL store', async () => {
    stream = await openStream(`${s.apiUrl}/v1/events?types=approval.requested,approval.decided,run.status`, { token: await s.token('bob') });
    assert.equal(stream.status, 200);
    const runId = await s.startRun({ ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 505 });
    const requested = await stream.next((e) => e.data.runId === runId && e.event === 'approval.requested', 60_000, 'approval.requested');
    const res = await s.call('POST', `/v1/approvals/${requested.data.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'reject' } });
    assert.equal(res.status, 200);
    await stream.next((e) => e.data.runId === runId && e.event === 'run.status' && e.data.status === 'rejected', 60_000, 'run rejected');
    const mine = stream.events.filter((e) => e.data.runId === runId);
    assert.deepEqual(
      mine.map((e) => e.event),
      ['run.status', 'approval.requested', 'run.status', 'approval.decided', 'run.status'],
    );
    assert.equal(new Set(mine.map((e) => `${e.id}/${e.event}`)).size, mine.length, 'each event once (the poller re-reads recent records on PostgreSQL)');
  });
});
