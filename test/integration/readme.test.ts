// The README, run as written: the walk-through's shell block, step by step, then every "Things to try" item in the
// README's order, on one fresh data dir and private ports, against `airlock start` in a child process (what `npm start`
// runs once its dependencies are installed), which one item kills and starts again. Each item is found by a key phrase
// and uses the customer and invoice its own text names, so the README and this test cannot drift apart; an item
// without a check fails.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Approval, RunView } from '../../src/core/types.js';
import { DevIssuer } from '../../src/identity/devIssuer.js';
import { spawnNode, type Proc } from '../helpers/process.js';
import { bulletsAfter, codeSpans, fencedBlock, jsonLines, numberedSteps, readmeSection, runReadmeShell } from '../helpers/readme.js';
import { freePort, testEnv, waitFor, withHelpers, type TestStack } from '../helpers/stack.js';

const walkThrough = readmeSection('Walk-through');
const steps = numberedSteps(fencedBlock(walkThrough, 'sh'));
const items = bulletsAfter(walkThrough, 'Things to try');

/** The approval expiry the expiry item is tried with: the README's 30s would make the test wait 30 s. */
const SHORT_EXPIRY = '2s';

interface Ticket {
  status: string;
  comments: string[];
}

describe('README: walk-through and things to try, in order, from a fresh start', () => {
  let env: Record<string, string>;
  let apiUrl: string;
  let proc: Proc | undefined;
  let s: TestStack;
  /** The walk-through's run (the audit item reads it). */
  let walkRun = '';

  const start = async (extra: Record<string, string> = {}) => {
    const p = spawnNode(['--import', 'tsx', 'src/cli/main.ts', 'start'], { ...env, ...extra });
    await waitFor(
      () => fetch(`${apiUrl}/readyz`).then((r) => r.status),
      (st) => st === 200,
      120_000,
      `stack ready; output: ${p.output()}`,
    );
    proc = p;
  };
  const stop = async () => assert.equal(await proc!.stop('SIGTERM'), 0, `clean exit on SIGTERM; output: ${proc!.output()}`);

  before(async () => {
    env = await testEnv({ env: { AIRLOCK_API_PORT: String(await freePort()) } });
    apiUrl = `http://127.0.0.1:${env.AIRLOCK_API_PORT}`;
    await start();
    const issuer = await DevIssuer.open(env.AIRLOCK_DATA_DIR!, 3_600_000);
    s = withHelpers({ apiUrl, issuer } as never, env, env.AIRLOCK_DATA_DIR!);
  });
  after(async () => {
    await proc?.stop('SIGTERM');
    rmSync(env.AIRLOCK_DATA_DIR!, { recursive: true, force: true });
  });

  const sh = async (n: number, vars: Record<string, string> = {}, keep: string[] = []) => {
    const r = await runReadmeShell(steps.get(n)!, { apiUrl, env, vars, keep });
    assert.equal(r.code, 0, `walk-through step ${n} failed: ${r.err}\n${r.out}`);
    return r;
  };
  const decide = async (user: string, a: Approval | string, body: Record<string, unknown> = { decision: 'approve' }) =>
    s.call('POST', `/v1/approvals/${typeof a === 'string' ? a : a.approvalId}/decision`, { token: await s.token(user), body });
  const waiting = (runId: string) => s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
  const ended = (runId: string, status: RunView['status']) => s.waitForRun(runId, (v) => v.status === status, 60_000);
  const refundStep = (v: RunView) => v.steps.find((x) => x.tool === 'billing.issue_refund')!;
  /** The customer and invoice an item names (`C-…` / `INV-…`), as a run input. */
  const inputOf = (item: string, extra: Record<string, unknown> = {}) => {
    const customerId = /`(C-\d+)`/.exec(item)?.[1];
    const invoiceId = /`(INV-\d+)`/.exec(item)?.[1];
    assert.ok(customerId && invoiceId, `the item names a customer and an invoice: ${item}`);
    return { customerId, invoiceId, message: 'Customer was double charged; please refund.', ...extra };
  };
  /** Asserts the item's text says `words` (the numbers and names a check relies on). */
  const says = (item: string, ...words: string[]) => words.forEach((w) => assert.ok(item.includes(w), `the item says ${w}: ${item}`));
  /** The ticket a run opened, read from the demo ticketing system's database. */
  const ticketOf = (v: RunView): Ticket => {
    const id = (v.steps.find((x) => x.tool === 'ticketing.create_ticket')!.result!.data as { ticketId: string }).ticketId;
    const db = new Database(join(env.AIRLOCK_DATA_DIR!, 'ticketing.db'), { readonly: true, fileMustExist: true });
    try {
      const { status } = db.prepare('SELECT status FROM tickets WHERE ticket_id = ?').get(id) as { status: string };
      const comments = (db.prepare('SELECT body FROM ticket_comments WHERE ticket_id = ? ORDER BY comment_id').all(id) as Array<{ body: string }>).map((c) => c.body);
      return { status, comments };
    } finally {
      db.close();
    }
  };
  /** A failed or rejected run closes its ticket with a comment saying why (its onFailure step runs just before it ends). */
  const assertClosed = (v: RunView, why: RegExp) => {
    const t = ticketOf(v);
    assert.equal(t.status, 'closed', JSON.stringify(t));
    assert.match(t.comments.at(-1) ?? '', why);
  };

  test('walk-through: a refund that needs finance approval', async () => {
    assert.deepEqual([...steps.keys()], [0, 1, 2, 3, 4], 'the walk-through has steps 1 to 4');
    const one = await sh(0, {}, ['ALICE', 'BOB']).then(async ({ vars }) => ({ vars, r: await sh(1, vars, ['RUN']) }));
    const vars = { ...one.vars, ...one.r.vars };
    walkRun = vars.RUN!;
    assert.match(walkRun, /^run-[0-9a-f]+$/, one.r.out);

    // 2. The README shows the run waiting for the refund it proposes, as its comment spells out.
    const said = steps.get(2)!;
    const [, invoiceId, amount] = /"invoiceId":"(INV-\d+)","amount":(\d+)/.exec(said)!;
    const policyIds = JSON.parse(`[${/"policyIds":\[([^\]]*)\]/.exec(said)![1]}]`) as string[];
    await waiting(walkRun);
    const [view] = jsonLines((await sh(2, vars)).out) as [RunView];
    assert.equal(view.status, 'awaiting_approval');
    const a = view.pendingApprovals[0]!;
    assert.deepEqual(
      [a.approvalId, a.tool, a.args.invoiceId, a.args.amount, a.args.currency, a.args.idempotencyKey, a.requiredGroup, a.quorum, a.policyIds, a.escalateTo],
      [`${walkRun}.a3`, 'billing.issue_refund', invoiceId, Number(amount), 'USD', `${walkRun}/step-3`, 'finance', 1, policyIds, 'finance-leads'],
    );

    // 3. Bob's pending list holds it; his approval is recorded.
    const [list, decided] = jsonLines((await sh(3, vars)).out) as [{ approvals: Approval[] }, { approval: Approval }];
    assert.ok(
      list.approvals.some((x) => x.approvalId === a.approvalId),
      JSON.stringify(list),
    );
    assert.deepEqual([decided.approval.status, decided.approval.decidedBy], ['approved', 'bob']);

    // 4. The steps the README lists, once, and one refund.
    const tools = /"steps":\[([^\]]*)\]/
      .exec(steps.get(4)!.replace(/\n#\s*/g, ' '))![1]!
      .split(',')
      .map((t) => t.trim());
    await ended(walkRun, 'completed');
    const [done] = jsonLines((await sh(4, vars)).out) as [RunView];
    assert.equal(done.status, 'completed');
    assert.deepEqual(
      done.steps.map((x) => x.tool),
      tools,
    );
    assert.deepEqual(
      s.refunds(walkRun).map((r) => [r.invoice_id, r.amount_cents]),
      [[invoiceId, Number(amount) * 100]],
    );
    assert.equal(ticketOf(done).status, 'resolved');
  });

  /** Each item's check, by a phrase only that item has. */
  const checks: Array<[phrase: string, check: (item: string) => Promise<void>]> = [
    [
      "The run's audit trail",
      async (item) => {
        const [curl, verify] = codeSpans(item);
        assert.match(curl!, /^curl .*\/audit/);
        const r = await runReadmeShell(curl!, { apiUrl, env, vars: { RUN: walkRun } });
        assert.equal(r.code, 0, r.err);
        const [trail] = jsonLines(r.out) as [{ runId: string; records: Array<{ type: string }> }];
        assert.equal(trail.runId, walkRun);
        assert.deepEqual([trail.records[0]!.type, trail.records.at(-1)!.type], ['run.started', 'run.completed']);
        assert.equal(verify, 'npx airlock audit verify');
        const v = await runReadmeShell(verify!, { apiUrl, env });
        assert.equal(v.code, 0, `${v.out}${v.err}`);
      },
    ],
    [
      'Reject instead',
      async (item) => {
        says(item, '{"decision":"reject"}', 'Bob');
        const runId = await s.startRun(inputOf(item));
        const a = (await waiting(runId)).pendingApprovals[0]!;
        assert.equal((await decide('bob', a, { decision: 'reject' })).status, 200);
        const done = await ended(runId, 'rejected');
        assert.equal(refundStep(done).status, 'rejected');
        assert.deepEqual(s.refunds(runId), []);
        assertClosed(done, /rejected by bob/);
      },
    ],
    [
      'Edit while approving',
      async (item) => {
        says(item, '"amount": 1200', '"amount":400', '6000 USD', '9500 USD', '25000 USD', '422');
        const input = inputOf(item, { amount: 1200 });
        const first = await s.startRun(input);
        const a = (await waiting(first)).pendingApprovals[0]!;
        for (const [amount, policy] of [
          [25000, /refund-over-limit/],
          [9500, /refund-within-refundable/],
        ] as const) {
          const res = await decide('bob', a, { decision: 'approve', args: { ...a.args, amount } });
          assert.equal(res.status, 422, JSON.stringify(res.body));
          assert.match(res.body.error.message, policy);
        }
        assert.equal((await decide('bob', a, { decision: 'approve', args: { ...a.args, amount: 400 } })).status, 200);
        await ended(first, 'completed');
        assert.deepEqual(
          s.refunds(first).map((r) => r.amount_cents),
          [40_000],
        );

        const second = await s.startRun(input);
        const b = (await waiting(second)).pendingApprovals[0]!;
        const res = await decide('bob', b, { decision: 'approve', args: { ...b.args, amount: 6000 } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const fresh = res.body.approval as Approval;
        assert.deepEqual([fresh.status, fresh.quorum, fresh.votes.length], ['pending', 2, 1]);
        assert.equal((await decide('carol', fresh)).status, 200);
        await ended(second, 'completed');
        assert.deepEqual(
          s.refunds(second).map((r) => r.amount_cents),
          [600_000],
        );
      },
    ],
    [
      'Add `"amount": 6000`',
      async (item) => {
        says(item, '"amount": 8000', '"amount": 25000', 'refund-within-refundable', 'refund-over-limit');
        const dual = await s.startRun(inputOf(item, { amount: 6000 }));
        const a = (await waiting(dual)).pendingApprovals[0]!;
        assert.deepEqual([a.quorum, a.requiredGroup], [2, 'finance']);
        assert.equal((await decide('bob', a)).body.approval.status, 'pending');
        assert.equal((await decide('carol', a)).body.approval.status, 'approved');
        await ended(dual, 'completed');

        for (const [amount, policies] of [
          [8000, ['refund-within-refundable']],
          [25000, ['refund-over-limit', 'refund-within-refundable']],
        ] as const) {
          const runId = await s.startRun(inputOf(item, { amount }));
          const done = await ended(runId, 'failed');
          assert.equal(done.error!.type, 'PolicyDenied');
          assert.deepEqual([refundStep(done).status, refundStep(done).decision!.policyIds], ['denied', policies]);
          assert.deepEqual(done.approvals, [], 'nobody was asked');
          assert.deepEqual(s.refunds(runId), []);
          assertClosed(done, new RegExp(policies.at(-1)!));
        }
      },
    ],
    [
      'Nobody approves their own request',
      async (item) => {
        says(item, 'helpdesk-bot', '"onBehalfOf":"bob"', '403', '409');
        const res = await s.call('POST', '/v1/runs', { token: await s.token('helpdesk-bot'), body: { agent: 'refund-assistant', input: inputOf(item), onBehalfOf: 'bob' } });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        const runId = res.body.runId as string;
        const a = (await waiting(runId)).pendingApprovals[0]!;
        for (const who of ['bob', 'alice', 'dave']) assert.equal((await decide(who, a)).status, 403, who);
        assert.equal((await decide('carol', a)).status, 200);
        assert.equal((await decide('carol', a)).status, 409, 'deciding twice');
        await ended(runId, 'completed');
      },
    ],
    [
      '/cancel` while',
      async (item) => {
        const runId = await s.startRun(inputOf(item));
        await waiting(runId);
        assert.equal((await s.call('POST', `/v1/runs/${runId}/cancel`, { token: await s.token('alice') })).status, 202);
        await ended(runId, 'cancelled');
        assert.deepEqual(s.refunds(runId), []);
      },
    ],
    [
      'Kill `npm start`',
      async (item) => {
        const runId = await s.startRun(inputOf(item));
        const a = (await waiting(runId)).pendingApprovals[0]!;
        await stop();
        await start();
        const still = await s.waitForRun(runId, () => true);
        assert.deepEqual([still.status, still.pendingApprovals[0]?.approvalId], ['awaiting_approval', a.approvalId]);
        assert.equal((await decide('bob', a)).status, 200);
        await ended(runId, 'completed');
        assert.equal(s.refunds(runId).length, 1);
      },
    ],
    [
      'AIRLOCK_APPROVAL_EXPIRY=',
      async (item) => {
        says(item, 'AIRLOCK_APPROVAL_EXPIRY=30s npm start', '410');
        await stop();
        await start({ AIRLOCK_APPROVAL_EXPIRY: SHORT_EXPIRY });
        const runId = await s.startRun(inputOf(item));
        const a = (await waiting(runId)).pendingApprovals[0]!;
        const done = await ended(runId, 'rejected');
        assert.equal(done.approvals[0]!.status, 'expired');
        assert.deepEqual(s.refunds(runId), []);
        assertClosed(done, /approval expired/);
        assert.equal((await decide('bob', a)).status, 410);
      },
    ],
  ];

  for (const item of items) {
    const matching = checks.filter(([phrase]) => item.includes(phrase));
    test(`things to try: ${item.slice(0, 70)}…`, async () => {
      assert.equal(matching.length, 1, `one check for this README item (found ${matching.length}): ${item}`);
      await matching[0]![1](item);
    });
  }

  test('every check has its README item', () => {
    for (const [phrase] of checks)
      assert.ok(
        items.some((i) => i.includes(phrase)),
        `no "Things to try" item says ${phrase}`,
      );
  });
});
