// Agents written as LangGraph graphs, on the real stack (Temporal dev server, worker bundle with the agent
// modules, demo MCP servers, Cedar policies, API): the prebuilt ReAct agent with the embedded planner, an
// approval-gated refund inside the graph, and interrupt() answered over REST.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import { DEMO_INPUT, startTestStack, type TestStack } from '../helpers/stack.js';

describe('agents written as graphs', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack({
      overrides: (cfg) => {
        cfg.agents.asker = {
          ...cfg.agents['refund-react']!,
          graph: join(ROOT, 'test/fixtures/graphs/asks.ts'),
          servers: ['crm'],
          playbook: [],
          inputSchema: { type: 'object', required: ['customerId'], properties: { customerId: { type: 'string' } } },
        };
      },
    });
  });
  after(async () => {
    await s?.cleanup();
  });

  const start = async (agent: string, input: Record<string, unknown>, user = 'alice') => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token(user), body: { agent, input } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.runId as string;
  };

  test('createReactAgent over ctx.model() and ctx.tools() runs the refund with the embedded planner, every call governed', async () => {
    const runId = await start('refund-react', { ...DEMO_INPUT, invoiceId: 'INV-2003', amount: 120 });
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(
      done.steps.map((x) => x.tool),
      ['crm.get_account', 'billing.get_invoice', 'ticketing.create_ticket', 'billing.issue_refund', 'crm.add_note', 'ticketing.update_ticket'],
    );
    assert.ok(done.steps.every((x) => x.node === 'tools' && x.decision?.outcome === 'allow' && x.status === 'completed'));
    assert.deepEqual(done.path?.slice(0, 4), ['agent', 'tools', 'agent', 'tools']);
    assert.equal(s.refunds(runId).length, 1);
    assert.equal(s.refunds(runId)[0]!.amount_cents, 12000);
  });

  test('a refund that policy sends to finance waits inside the graph, and runs once approved', async () => {
    const runId = await start('refund-react', { ...DEMO_INPUT, invoiceId: 'INV-2001', amount: 700 });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval', 120_000);
    const a = waiting.pendingApprovals[0]!;
    assert.equal(a.tool, 'billing.issue_refund');
    assert.equal(a.requiredGroup, 'finance');
    assert.equal(s.refunds(runId).length, 0);
    const res = await s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.equal(s.refunds(runId).length, 1);
  });

  test('interrupt() waits for the requester: 403 for others, 404 for an unknown id, 409 twice; the answer resumes the graph', async () => {
    const runId = await start('asker', { customerId: 'C-1001' });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_input', 120_000);
    const q = waiting.pendingInputs![0]!;
    assert.deepEqual(q.value, { question: 'Which account should I read? (you said C-1001)' });
    assert.equal(q.node, 'ask');
    const answer = (user: string, inputId: string, value: unknown) => s.token(user).then((token) => s.call('POST', `/v1/runs/${runId}/input`, { token, body: { inputId, value } }));
    assert.equal((await answer('bob', q.inputId, 'C-1002')).status, 403, 'bob is neither the requester nor in support-leads');
    assert.equal((await answer('alice', `${runId}.i9`, 'C-1002')).status, 404);
    const ok = await answer('alice', q.inputId, 'C-1002');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.input.answeredBy, 'alice');
    const again = await answer('alice', q.inputId, 'C-1003');
    assert.equal(again.status, 409, JSON.stringify(again.body));
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(
      done.steps.map((x) => [x.tool, x.args.accountId, x.node]),
      [['crm.get_account', 'C-1002', 'read']],
    );
    assert.equal((done.result as { account: { accountId: string } }).account.accountId, 'C-1002', 'the graph resumed with the answer and read that account');
    assert.deepEqual(done.path, ['ask', 'ask', 'read']);
  });

  test('dispute-triage: two reads in parallel (Send), a model node, an interrupt for the missing amount, and a refund finance approves', async () => {
    const runId = await start('dispute-triage', { customerId: 'C-1001', invoiceId: 'INV-2005', message: 'Charged twice for March.' });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_input', 120_000);
    assert.deepEqual(
      waiting.steps.map((x) => [x.tool, x.node]).sort(),
      [
        ['billing.get_invoice', 'read'],
        ['crm.get_account', 'read'],
      ],
      'both reads ran, each governed, in the read node',
    );
    assert.deepEqual(waiting.path?.slice(0, 3), ['read', 'read', 'classify']);
    const q = waiting.pendingInputs![0]!;
    assert.equal(q.node, 'ask');
    assert.match((q.value as { question: string }).question, /How much of INV-2005 should be refunded\? At most 5000 USD/);
    const token = await s.token('alice');
    assert.equal((await s.call('POST', `/v1/runs/${runId}/input`, { token, body: { inputId: q.inputId, value: 700 } })).status, 200);
    // 700 USD: the same Cedar refund policy sends it to finance, inside this custom graph.
    const gated = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval', 120_000);
    const a = gated.pendingApprovals[0]!;
    assert.deepEqual([a.tool, a.requiredGroup, a.policyIds], ['billing.issue_refund', 'finance', ['refund-finance-approval']]);
    assert.equal(s.refunds(runId).length, 0, 'nothing refunded before the approval');
    assert.equal((await s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } })).status, 200);
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(done.steps.at(-1)!.args.amount, 700);
    assert.equal(done.steps.at(-1)!.node, 'refund');
    assert.equal(s.refunds(runId).length, 1);
    assert.equal(s.refunds(runId)[0]!.amount_cents, 70_000);
  });

  test('dispute-triage escalates a dispute above what the invoice can refund: a high-priority ticket, no refund', async () => {
    const runId = await start('dispute-triage', { customerId: 'C-1002', invoiceId: 'INV-2002', message: 'Wrong amount billed.', amount: 900 });
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    const ticket = done.steps.find((x) => x.tool === 'ticketing.create_ticket')!;
    assert.equal(ticket.node, 'escalate');
    assert.equal(ticket.args.priority, 'high');
    assert.equal(
      done.steps.some((x) => x.tool === 'billing.issue_refund'),
      false,
    );
    assert.equal(s.refunds(runId).length, 0);
  });
});
