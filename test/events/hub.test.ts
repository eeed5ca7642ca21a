// The event stream's source against both real audit stores: records become events, one rule decides who sees them
// (an approver their groups' approvals, the escalation group after escalation, never their own run's; the requester
// the run's status and questions), and the tail delivers what any writer appends, in order, from where it starts.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { AuditEventInput, AuditStore } from '../../src/audit/types.js';
import { maySee } from '../../src/core/access.js';
import type { Principal } from '../../src/core/types.js';
import type { FeedItem } from '../../src/events/feed.js';
import { EventHub } from '../../src/events/hub.js';
import { createLogger } from '../../src/log/logger.js';
import { STORES } from '../audit/helpers.js';

const who = (subject: string, groups: string[], roles: string[]): Principal => ({ subject, kind: 'user', groups, roles });
const alice = who('alice', ['support'], ['requester']);
const bob = who('bob', ['finance'], ['approver']);
const erin = who('erin', ['finance-leads'], ['approver']);
const dave = who('dave', ['support-leads', 'finance'], ['approver', 'requester']);
const olivia = who('olivia', ['ops'], ['operator']);
const helper = who('helper', ['helpers'], []);

let n = 0;
/** One record of a run, as the workflow notes it (principal = the run's identity unless given). */
function rec(runId: string, type: AuditEventInput['type'], data: AuditEventInput['data'], extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return { eventId: `ev-${++n}-${runId}`, chain: `run:${runId}`, type, at: new Date().toISOString(), runId, principal: 'alice', agent: 'refund-assistant', data, ...extra };
}

const approval = (id: string, extra: Record<string, string> = {}) => ({ approvalId: id, step: 3, digest: 'd', requiredGroup: 'finance', quorum: 1, ...extra });

/** Collects what a hub hands its listeners. */
async function listen(hub: EventHub) {
  const got: FeedItem[] = [];
  const off = await hub.subscribe(
    (items) => got.push(...items),
    () => {},
  );
  const until = async (pred: (items: FeedItem[]) => boolean, what: string) => {
    for (let i = 0; i < 200 && !pred(got); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(pred(got), `timed out waiting for ${what}: ${JSON.stringify(got.map((g) => [g.seq, g.event.type]))}`);
  };
  return { got, off, until };
}

const seenBy = (items: FeedItem[], p: Principal) => items.filter((i) => maySee(p, i.audience)).map((i) => `${i.event.type}${i.event.status ? `:${i.event.status}` : ''}`);

for (const kind of STORES) {
  describe(`event hub on ${kind.kind}`, () => {
    const open: AuditStore[] = [];
    const hubs: EventHub[] = [];
    after(async () => {
      for (const h of hubs) h.close();
      for (const s of open) await s.close();
    });

    test('approval events reach the approval’s groups only; the requester sees the run’s status; resume from a cursor', async () => {
      const { store } = await kind.open();
      open.push(store);
      await store.append([rec('run-old', 'run.started', { requester: 'alice' })]); // before anyone listens
      const hub = new EventHub(store, createLogger('silent'), { pollMs: 20 });
      hubs.push(hub);
      const l = await listen(hub);
      const runId = 'run-a1';
      const id = `${runId}.a3`;
      await store.append([rec(runId, 'run.started', { requester: 'alice', groups: ['support'] })]);
      await store.append([
        rec(runId, 'tool.proposed', { step: 0 }),
        rec(runId, 'approval.requested', approval(id, { escalateTo: 'finance-leads', reason: 'refund over 500', expiresAt: '2030-01-01T00:00:00Z' }), { server: 'billing', tool: 'issue_refund' }),
      ]);
      await l.until((g) => g.some((i) => i.event.type === 'approval.requested'), 'the request');
      await store.append([rec(runId, 'approval.escalated', approval(id, { escalateTo: 'finance-leads' }), { server: 'billing', tool: 'issue_refund' })]);
      await store.append([
        rec(runId, 'approval.decided', { ...approval(id), approver: 'erin', decision: 'approve', settled: 'approved' }, { principal: 'erin', server: 'billing', tool: 'issue_refund' }),
      ]);
      await store.append([rec(runId, 'run.completed', { steps: 4 }, { outcome: 'completed' })]);
      await l.until((g) => g.some((i) => i.event.type === 'run.status' && i.event.status === 'completed'), 'the end');

      assert.ok(!l.got.some((i) => i.event.runId === 'run-old'), 'nothing from before the hub started');
      assert.deepEqual(
        l.got.map((i) => i.seq),
        [...l.got.map((i) => i.seq)].sort((a, b) => a - b),
        'in audit order',
      );
      const req = l.got.find((i) => i.event.type === 'approval.requested')!;
      assert.deepEqual(
        { approvalId: req.event.approvalId, tool: req.event.tool, requiredGroup: req.event.requiredGroup, escalateTo: req.event.escalateTo, status: req.event.status },
        { approvalId: id, tool: 'billing.issue_refund', requiredGroup: 'finance', escalateTo: 'finance-leads', status: 'pending' },
      );
      assert.equal(JSON.stringify(req.event).includes('args'), false, 'no args on the stream');
      assert.deepEqual(
        seenBy(l.got, bob).filter((t) => t.startsWith('approval')),
        ['approval.requested:pending', 'approval.escalated:pending', 'approval.decided:approved'],
      );
      // erin's group may decide after escalation: she sees from the escalation on.
      assert.deepEqual(
        seenBy(l.got, erin).filter((t) => t.startsWith('approval')),
        ['approval.escalated:pending', 'approval.decided:approved'],
      );
      assert.deepEqual(seenBy(l.got, alice), ['run.status:running', 'run.status:awaiting_approval', 'run.status:completed'], 'the requester: status only');
      assert.equal(seenBy(l.got, olivia).length, l.got.length, 'operators see everything');
      assert.deepEqual(seenBy(l.got, helper), [], 'no role, not the requester: nothing');

      // A reader that starts later resumes after the request, from the store.
      const later = await hub.since(req.seq, 100);
      assert.deepEqual(
        later.items.map((i) => i.event.type),
        ['approval.escalated', 'approval.decided', 'run.status'],
      );
      l.off();
    });

    test('a run an approver requested hides its approvals from them; questions reach whoever may answer them', async () => {
      const { store } = await kind.open();
      open.push(store);
      const hub = new EventHub(store, createLogger('silent'), { pollMs: 20 });
      hubs.push(hub);
      const l = await listen(hub);
      await store.append([rec('run-d1', 'run.started', { requester: 'dave' }, { principal: 'dave' })]);
      await store.append([rec('run-d1', 'approval.requested', approval('run-d1.a0'), { principal: 'dave', server: 'billing', tool: 'issue_refund' })]);
      await store.append([rec('run-q1', 'run.started', { requester: 'alice' })]);
      await store.append([rec('run-q1', 'input.requested', { inputId: 'run-q1.i1', value: { question: 'Which invoice?' }, node: 'ask', groups: ['helpers'] })]);
      await store.append([rec('run-q1', 'input.answered', { inputId: 'run-q1.i1', answer: 'INV-1', node: 'ask' }, { principal: 'helper', outcome: 'answered' })]);
      await l.until((g) => g.some((i) => i.event.type === 'input.answered'), 'the answer');

      assert.deepEqual(
        seenBy(l.got, dave).filter((t) => t.startsWith('approval')),
        [],
        'dave is in finance, but requested the run',
      );
      assert.ok(seenBy(l.got, bob).includes('approval.requested:pending'));
      const asked = l.got.find((i) => i.event.type === 'input.requested')!;
      assert.deepEqual(asked.event.question, { question: 'Which invoice?' });
      assert.deepEqual(asked.event.groups, ['helpers']);
      assert.ok(maySee(helper, asked.audience), 'a member of the named group may answer, so sees it');
      assert.ok(maySee(alice, asked.audience), 'the requester may answer');
      const answered = l.got.find((i) => i.event.type === 'input.answered')!;
      assert.equal(answered.event.by, 'helper');
      assert.equal(JSON.stringify(answered.event).includes('INV-1'), false, 'answers are not on the stream');
      assert.ok(seenBy(l.got, alice).includes('run.status:awaiting_input'));
      l.off();
    });

    test('a second reader of the same store (another replica) sees what the first process writes', async () => {
      const opened = await kind.open();
      open.push(opened.store);
      const replica = await opened.reopen();
      open.push(replica);
      const hub = new EventHub(replica, createLogger('silent'), { pollMs: 20 });
      hubs.push(hub);
      const l = await listen(hub);
      await opened.store.append([rec('run-r1', 'run.started', { requester: 'alice' }), rec('run-r1', 'approval.requested', approval('run-r1.a0'), { server: 'billing', tool: 'issue_refund' })]);
      await l.until((g) => g.some((i) => i.event.approvalId === 'run-r1.a0'), 'the other writer’s approval');
      // The listener leaves: polling stops; a new one starts at the end of the store again.
      l.off();
      const again = await listen(hub);
      await opened.store.append([rec('run-r1', 'run.failed', { steps: 1 }, { outcome: 'failed' })]);
      await again.until((g) => g.some((i) => i.event.status === 'failed'), 'the next record');
      assert.deepEqual(
        again.got.map((i) => i.event.type),
        ['run.status'],
        'only what came after it',
      );
      again.off();
    });
  });
}
