// Listing runs (GET /v1/runs) and decided approvals (GET /v1/approvals?status=…) from Temporal visibility, against the
// real stack. Each test counts only the runs it started (a requester of its own, or the run ids it knows), and polls:
// visibility is eventually consistent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DEMO_INPUT, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

type Item = { runId: string; agent: string; requester: string; status: string; startedAt: string; closedAt?: string; pendingGroups: string[]; risk: string };
type Vote = { by: string; decision: string; at: string; comment?: string };
type ListedApproval = { approvalId: string; runId: string; status: string; votes: Vote[]; decidedBy?: string; decidedAt?: string };

describe('listing runs and decided approvals', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack();
  });
  after(async () => {
    await s?.cleanup();
  });

  /** A requester no other test uses: its runs are exactly the ones this test starts. */
  const freshRequester = async () => {
    const subject = `req-${randomBytes(4).toString('hex')}`;
    return { subject, token: await s.issuer.mint(subject, { kind: 'user', roles: ['requester'], groups: ['support'] }) };
  };
  const start = async (token: string, input: Record<string, unknown>) => {
    const res = await s.call('POST', '/v1/runs', { token, body: { agent: 'refund-assistant', input } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.runId as string;
  };
  const list = async (token: string, query: Record<string, string>) => s.call<{ runs: Item[]; next?: string }>('GET', `/v1/runs?${new URLSearchParams(query)}`, { token });
  const ids = (items: Array<{ runId: string }>) => items.map((r) => r.runId).sort();

  test('filters by requester, status, agent and start time; pages; requesters see only their own runs', async () => {
    const r = await freshRequester();
    const t0 = new Date(Date.now() - 1000).toISOString();
    const waiting = [await start(r.token, DEMO_INPUT), await start(r.token, { ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 600 })];
    const done = await start(r.token, { ...DEMO_INPUT, amount: 1 });
    for (const id of waiting) await s.waitForRun(id, (v) => v.status === 'awaiting_approval');
    await s.waitForRun(done, (v) => v.status === 'completed');
    const all = [...waiting, done].sort();
    const olivia = await s.token('olivia');

    // The list settles on the three runs, each with the state its search attributes give.
    const mine = await waitFor(
      () => list(olivia, { requester: r.subject }),
      (res) =>
        res.status === 200 &&
        res.body.runs.length === 3 &&
        res.body.runs.filter((x) => x.status === 'awaiting_approval').length === 2 &&
        res.body.runs.some((x) => x.status === 'completed' && x.closedAt !== undefined),
      30_000,
      'three runs listed in their current state',
    );
    assert.deepEqual(ids(mine.body.runs), all);
    assert.equal(mine.body.next, undefined, 'one page holds them all');
    for (const item of mine.body.runs) {
      assert.equal(item.agent, 'refund-assistant');
      assert.equal(item.requester, r.subject);
      assert.ok(Date.parse(item.startedAt) >= Date.parse(t0), item.startedAt);
      if (item.status === 'awaiting_approval') {
        assert.deepEqual(item.pendingGroups, ['finance']);
        assert.equal(item.risk, 'high');
        assert.equal(item.closedAt, undefined);
      } else {
        assert.equal(item.runId, done);
        assert.ok(item.closedAt && Date.parse(item.closedAt) >= Date.parse(item.startedAt), JSON.stringify(item));
        assert.deepEqual(item.pendingGroups, []);
      }
    }

    // Filters.
    assert.deepEqual(ids((await list(olivia, { requester: r.subject, status: 'awaiting_approval' })).body.runs), [...waiting].sort());
    assert.deepEqual(ids((await list(olivia, { requester: r.subject, status: 'completed' })).body.runs), [done]);
    assert.deepEqual((await list(olivia, { requester: r.subject, status: 'rejected' })).body.runs, []);
    assert.deepEqual((await list(olivia, { requester: r.subject, status: 'failed' })).body.runs, []);
    assert.deepEqual(ids((await list(olivia, { requester: r.subject, agent: 'refund-assistant' })).body.runs), all);
    assert.deepEqual((await list(olivia, { requester: r.subject, agent: 'no-such-agent' })).body.runs, []);
    const later = new Date(Date.now() + 60_000).toISOString();
    assert.deepEqual(ids((await list(olivia, { requester: r.subject, from: t0, to: later })).body.runs), all);
    assert.deepEqual((await list(olivia, { requester: r.subject, from: later })).body.runs, []);
    assert.deepEqual((await list(olivia, { requester: r.subject, to: t0 })).body.runs, []);

    // Pages of one walk every run once.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await list(olivia, { requester: r.subject, limit: '1', ...(cursor ? { cursor } : {}) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.runs.length <= 1);
      seen.push(...res.body.runs.map((x) => x.runId));
      cursor = res.body.next;
      if (!cursor) break;
    }
    assert.equal(cursor, undefined, 'the pages end');
    assert.deepEqual([...seen].sort(), all, 'every run once, no duplicates');

    // A requester lists only their own runs, whatever they ask for.
    const own = await list(r.token, {});
    assert.equal(own.status, 200);
    assert.deepEqual(ids(own.body.runs), all);
    const alice = await s.token('alice');
    const alices = await list(alice, {});
    assert.equal(alices.status, 200);
    assert.ok(
      alices.body.runs.every((x) => x.requester === 'alice'),
      JSON.stringify(alices.body.runs),
    );
    assert.equal((await list(alice, { requester: r.subject })).status, 403);
    assert.equal((await list(r.token, { requester: r.subject })).status, 200);
    // Approvers may read any run, so they may list any.
    assert.deepEqual(ids((await list(await s.token('bob'), { requester: r.subject })).body.runs), all);
  });

  test('bad filters are 400 with the reason; values never change the query', async () => {
    const olivia = await s.token('olivia');
    const bad = async (query: Record<string, string>, mentions: string) => {
      const res = await list(olivia, query);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body && (res.body as unknown as { error: { code: string } }).error.code, 'invalid_request');
      assert.match((res.body as unknown as { error: { message: string } }).error.message, new RegExp(mentions));
    };
    await bad({ status: 'done' }, 'status');
    await bad({ from: 'yesterday' }, 'from');
    await bad({ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from');
    await bad({ limit: '501' }, 'limit');
    await bad({ limit: '0' }, 'limit');
    await bad({ cursor: 'not-a-cursor' }, 'cursor');
    await bad({ colour: 'blue' }, '');
    // A cursor is bound to the filters it came with.
    const r = await freshRequester();
    await start(r.token, { ...DEMO_INPUT, amount: 1 });
    await start(r.token, { ...DEMO_INPUT, amount: 1 });
    const first = await waitFor(
      () => list(olivia, { requester: r.subject, limit: '1' }),
      (res) => res.status === 200 && res.body.next !== undefined,
      30_000,
      'a first page with a next cursor',
    );
    await bad({ requester: 'alice', limit: '1', cursor: first.body.next! }, 'cursor');
    // Quotes and backslashes are matched literally: no other run matches, and the query stays valid.
    for (const requester of ["x' OR AirlockRequester != 'x", 'x\\', "alice'"]) {
      const res = await list(olivia, { requester });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.runs, []);
    }
  });

  test('decided approvals: approved and rejected ones with their votes and decision time, to whom may see them', async () => {
    const r = await freshRequester();
    const [toApprove, toReject] = [await start(r.token, { ...DEMO_INPUT, invoiceId: 'INV-2006', amount: 501 }), await start(r.token, { ...DEMO_INPUT, invoiceId: 'INV-2005', amount: 600 })];
    const approvalOf = async (runId: string) => (await s.waitForRun(runId, (v) => v.status === 'awaiting_approval')).pendingApprovals[0]!.approvalId;
    const [approved, rejected] = [await approvalOf(toApprove), await approvalOf(toReject)];
    const decide = async (user: string, approvalId: string, decision: string, comment: string) => {
      const res = await s.call('POST', `/v1/approvals/${approvalId}/decision`, { token: await s.token(user), body: { decision, comment } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    await decide('bob', approved, 'approve', 'verified');
    await decide('carol', rejected, 'reject', 'not eligible');
    // The approved run ends completed or failed, as the demo billing allows; either way its approval is decided.
    await s.waitForRun(toApprove, (v) => v.approvals.some((x) => x.approvalId === approved && x.status === 'approved') && (v.status === 'completed' || v.status === 'failed'));
    await s.waitForRun(toReject, (v) => v.status === 'rejected');
    const olivia = await s.token('olivia');
    // Both runs closed in visibility too, so pages below walk a list that no longer moves.
    await waitFor(
      () => list(olivia, { requester: r.subject }),
      (res) => res.status === 200 && res.body.runs.length === 2 && res.body.runs.every((x) => x.closedAt !== undefined),
      30_000,
      'both runs closed in visibility',
    );

    const approvals = (token: string, query: Record<string, string>) => s.call<{ approvals: ListedApproval[]; next?: string }>('GET', `/v1/approvals?${new URLSearchParams(query)}`, { token });
    const find = (res: { body: { approvals: ListedApproval[] } }, id: string) => res.body.approvals.find((a) => a.approvalId === id);
    const listedApproved = await waitFor(
      () => approvals(olivia, { status: 'approved' }),
      (res) => res.status === 200 && find(res, approved) !== undefined,
      30_000,
      'the approved approval listed',
    );
    const a = find(listedApproved, approved)!;
    assert.equal(a.runId, toApprove);
    assert.equal(a.status, 'approved');
    assert.equal(a.decidedBy, 'bob');
    assert.ok(a.decidedAt && !Number.isNaN(Date.parse(a.decidedAt)));
    assert.deepEqual(
      a.votes.map((v) => [v.by, v.decision, v.comment]),
      [['bob', 'approve', 'verified']],
    );
    assert.ok(listedApproved.body.approvals.every((x) => x.status === 'approved'));
    assert.equal(find(listedApproved, rejected), undefined, 'the rejected one is not approved');

    const listedRejected = await approvals(olivia, { status: 'rejected' });
    assert.equal(listedRejected.status, 200);
    const b = find(listedRejected, rejected)!;
    assert.ok(b, JSON.stringify(listedRejected.body));
    assert.equal(b.decidedBy, 'carol');
    assert.ok(b.decidedAt);
    assert.deepEqual(
      b.votes.map((v) => [v.by, v.decision]),
      [['carol', 'reject']],
    );

    // Finance approvers see their group's decisions, their own included; other approvers do not; requesters may not list.
    const bob = await s.token('bob');
    assert.ok(find(await approvals(bob, { status: 'approved' }), approved));
    assert.ok(find(await approvals(bob, { status: 'rejected' }), rejected));
    assert.equal(find(await approvals(await s.token('dave'), { status: 'approved' }), approved), undefined);
    assert.equal(find(await approvals(await s.token('erin'), { status: 'rejected' }), rejected), undefined);
    assert.equal((await approvals(await s.token('alice'), { status: 'approved' })).status, 403);
    assert.equal((await approvals(olivia, { status: 'decided' })).status, 400);
    assert.equal((await approvals(olivia, { status: 'approved', cursor: 'garbage' })).status, 400);

    // Pages of one walk every approved approval once.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const res = await approvals(olivia, { status: 'approved', limit: '1', ...(cursor ? { cursor } : {}) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.approvals.length <= 1);
      seen.push(...res.body.approvals.map((x) => x.approvalId));
      cursor = res.body.next;
      if (!cursor) break;
    }
    assert.equal(cursor, undefined, 'the pages end');
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.ok(seen.includes(approved));
    assert.deepEqual([...seen].sort(), listedApproved.body.approvals.map((x) => x.approvalId).sort(), 'the same approvals as one page');

    // The pending list keeps its shape.
    const pending = await approvals(bob, { status: 'pending' });
    assert.equal(pending.status, 200);
    assert.deepEqual(Object.keys(pending.body), ['approvals']);
  });
});
