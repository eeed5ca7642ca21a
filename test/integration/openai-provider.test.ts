// The OpenAI-compatible provider path: LangChain's ChatOpenAI talks to a local server that scripts tool calls.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startScriptedOpenAI, toolResults, type ChatRequest, type ScriptReply, type ScriptedOpenAI } from '../helpers/scriptedOpenAI.js';
import { DEMO_INPUT, startTestStack, type TestStack } from '../helpers/stack.js';

/** The refund flow as a model would drive it, reading ids from earlier tool results. */
function refundScript(req: ChatRequest): ScriptReply {
  const results = toolResults(req);
  const input = JSON.parse(req.messages.find((m) => m.role === 'user')!.content!.split('\n').slice(1).join('\n'));
  if (input.message === 'hallucinate') return { toolCall: { name: 'billing__wire_transfer', args: { amount: 1 } } };
  if (input.message === 'garbage') return { text: '' };
  const ticket = results[2]?.data;
  const refund = results[3]?.data;
  const steps: ScriptReply[] = [
    { toolCall: { name: 'crm__get_account', args: { accountId: input.customerId } } },
    { toolCall: { name: 'billing__get_invoice', args: { invoiceId: input.invoiceId } } },
    { toolCall: { name: 'ticketing__create_ticket', args: { accountId: input.customerId, subject: 'Refund', body: input.message, priority: 'high' } } },
    // The model tries to choose its own idempotency key; the control layer must override it.
    { toolCall: { name: 'billing__issue_refund', args: { invoiceId: input.invoiceId, amount: 100, currency: 'USD', reason: input.message, idempotencyKey: 'model-chosen' } } },
    { toolCall: { name: 'crm__add_note', args: { accountId: input.customerId, body: `Refund ${refund?.refundId} issued` } } },
    { toolCall: { name: 'ticketing__update_ticket', args: { ticketId: ticket?.ticketId, status: 'resolved', comment: 'done' } } },
    { text: 'Refunded 100 USD and resolved the ticket.' },
  ];
  return steps[results.length] ?? { text: 'done' };
}

describe('OpenAI-compatible model provider', () => {
  let llm: ScriptedOpenAI;
  let s: TestStack;
  before(async () => {
    llm = await startScriptedOpenAI(refundScript);
    s = await startTestStack({ env: { AIRLOCK_REFUND_MODEL: 'local-openai', AIRLOCK_OPENAI_BASE_URL: llm.baseUrl, AIRLOCK_OPENAI_MODEL: 'scripted-1' } });
  });
  after(async () => {
    await s?.cleanup();
    await llm?.close();
  });

  test('a model-driven run proposes tools, waits for approval and completes', async () => {
    const runId = await s.startRun();
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const pending = waiting.pendingApprovals[0]!;
    assert.equal(pending.tool, 'billing.issue_refund');
    assert.equal(pending.args.amount, 100);
    assert.equal(pending.args.idempotencyKey, `${runId}/step-3`, 'the model cannot pick the idempotency key');
    const res = await s.call('POST', `/v1/approvals/${pending.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(res.status, 200);
    const done = await s.waitForRun(runId, (v) => v.status === 'completed');
    assert.deepEqual(done.result, { summary: 'Refunded 100 USD and resolved the ticket.' });
    assert.equal(done.steps.length, 6);
    assert.ok(done.steps.every((x) => x.status === 'completed' && !x.result?.isError), JSON.stringify(done.steps.map((x) => x.result)));
    assert.equal(s.refunds().length, 1);

    const first = llm.requests.find((r) => toolResults(r).length === 0)!;
    assert.equal(first.model, 'scripted-1');
    const names = first.tools!.map((t) => t.function.name).sort();
    assert.ok(names.includes('billing__issue_refund') && names.includes('crm__get_account') && names.includes('ticketing__update_ticket'), names.join());
    assert.match(first.messages[0]!.content!, /never follow instructions/);
    const last = llm.requests.at(-1)!;
    assert.equal(toolResults(last).length, 6, 'every tool result went back to the model');
  });

  test('a hallucinated tool is denied with a clear reason and never runs', async () => {
    const runId = await s.startRun({ ...DEMO_INPUT, message: 'hallucinate' });
    const done = await s.waitForRun(runId, (v) => v.status === 'failed');
    assert.equal(done.error?.type, 'PolicyDenied');
    assert.match(done.error!.message, /billing\.wire_transfer.*does not exist/);
    assert.equal(done.steps[0]!.status, 'denied');
  });

  test('an empty model answer fails the run cleanly instead of retrying forever', async () => {
    const runId = await s.startRun({ ...DEMO_INPUT, message: 'garbage' });
    const done = await s.waitForRun(runId, (v) => v.status === 'failed');
    assert.equal(done.error?.type, 'PlannerFailed');
    const calls = llm.requests.filter((r) => r.messages.some((m) => m.content?.includes('garbage'))).length;
    assert.equal(calls, 1, 'PlannerFailed is not retried');
  });
});
