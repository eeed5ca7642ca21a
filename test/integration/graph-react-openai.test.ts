// LangGraph's prebuilt ReAct agent (examples/agents/refund-react.ts) driven by an OpenAI-compatible model —
// a local server speaking the chat-completions wire format, answering from a script — on the real stack
// (Temporal dev server, demo MCP servers, Cedar policies, API). Every tool call the model proposes is a
// governed activity: a policy denial comes back to the model as a tool result it can recover from, and
// several calls in one answer run side by side, each decided on its own. Also: a hand-written graph that
// fans out with Send to two governed reads merged by a reducer.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/types.js';
import { ROOT } from '../../src/config/load.js';
import { runAudit } from '../helpers/audit.js';
import { startScriptedOpenAI, toolResults, type ChatRequest, type ScriptReply, type ScriptedOpenAI } from '../helpers/scriptedOpenAI.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

const MODEL = 'scripted-react';

/** The run's input, as the ReAct agent's first (user) message carries it: the JSON of the input. */
function inputOf(req: ChatRequest): Record<string, string | number> {
  const user = req.messages.find((m) => m.role === 'user')!.content!;
  return JSON.parse(user.slice(user.indexOf('{'))) as Record<string, string | number>;
}

/**
 * Two tool calls in one assistant message, as OpenAI sends parallel calls. The scripted server's replies
 * carry one call each; a scripted HTTP 200 with its own body sends this chat.completion as it is
 * (the provider is not streaming, so the JSON body is what ChatOpenAI reads).
 */
function parallelCalls(n: number, model: string, calls: Array<{ name: string; args: Record<string, unknown> }>): ScriptReply {
  return {
    status: 200,
    body: {
      id: `chatcmpl-par-${n}`,
      object: 'chat.completion',
      created: 0,
      model,
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: calls.map((c, i) => ({ id: `call_par_${n}_${i}`, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } })),
          },
        },
      ],
      usage: { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60 },
    },
  };
}

/** The model, scenario by scenario (the input's `message` names it): each answer follows from the tool results so far. */
function script(req: ChatRequest, n: number): ScriptReply {
  const input = inputOf(req);
  const results = toolResults(req);
  const last = results.at(-1);
  const refund = (amount: number): ScriptReply => ({
    toolCall: { name: 'billing__issue_refund', args: { invoiceId: input.invoiceId, amount, currency: 'USD', reason: String(input.message) } },
  });
  switch (input.message) {
    case 'react-refund': {
      const steps: ScriptReply[] = [
        { toolCall: { name: 'crm__get_account', args: { accountId: input.customerId } } },
        { toolCall: { name: 'billing__get_invoice', args: { invoiceId: input.invoiceId } } },
        refund(Number(input.amount)),
        { text: `Refunded ${results[2]?.data?.amount} USD on ${input.invoiceId} (refund ${results[2]?.data?.refundId}).` },
      ];
      return steps[results.length] ?? { text: 'done' };
    }
    case 'react-denied': {
      // Reads the invoice, asks for the whole 25000 (policy forbids over 20000), then, told why, refunds 300.
      if (results.length === 0) return { toolCall: { name: 'billing__get_invoice', args: { invoiceId: input.invoiceId } } };
      if (results.length === 1) return refund(Number(last!.data.amount));
      if (last!.isError && /^Denied by policy:/.test(String(last!.data))) return refund(300);
      return { text: `Refunded 300 USD on ${input.invoiceId}; the rest needs finance.` };
    }
    case 'react-parallel':
      if (results.length === 0)
        return parallelCalls(n, req.model, [
          { name: 'crm__get_account', args: { accountId: input.customerId } },
          { name: 'billing__get_invoice', args: { invoiceId: input.invoiceId } },
        ]);
      return { text: `Read ${results.map((r) => `${r.server}.${r.tool}`).join(' and ')}.` };
    default:
      return { text: `unscripted scenario ${String(input.message)}` };
  }
}

describe('a ReAct agent graph driven by an OpenAI-compatible model', () => {
  let llm: ScriptedOpenAI;
  let s: TestStack;
  before(async () => {
    llm = await startScriptedOpenAI(script);
    s = await startTestStack({
      overrides: (cfg) => {
        // Overrides apply to the parsed config: every field is given.
        cfg.models[MODEL] = {
          kind: 'openai',
          baseUrl: llm.baseUrl,
          model: MODEL,
          clearance: 'restricted',
          residency: 'on-prem',
          temperature: 0,
          timeout: 60_000,
          streaming: false,
          maxTokens: 256,
          price: { inputPerMTok: 0, outputPerMTok: 0 },
        } as never;
        cfg.agents['refund-react'] = { ...cfg.agents['refund-react']!, model: MODEL };
        cfg.agents['parallel-reader'] = {
          ...cfg.agents['refund-react']!,
          model: 'embedded',
          graph: join(ROOT, 'test/fixtures/graphs/parallel-reads.ts'),
          servers: ['crm', 'billing'],
          playbook: [],
          inputSchema: { type: 'object', required: ['customerId', 'invoiceId'], properties: { customerId: { type: 'string' }, invoiceId: { type: 'string' } } },
        };
      },
    });
  });
  after(async () => {
    await s?.cleanup();
    await llm?.close();
  });

  const start = async (agent: string, input: Record<string, unknown>, user = 'alice') => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token(user), body: { agent, input } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.runId as string;
  };
  /** The model requests of one scenario (each test's runs have their own `message`). */
  const requestsOf = (message: string) => llm.requests.filter((r) => inputOf(r).message === message);

  test('createReactAgent over the scripted model: reads, a refund within policy, then the answer; every result goes back to the model', async () => {
    const runId = await start('refund-react', { customerId: 'C-1003', invoiceId: 'INV-2003', message: 'react-refund', amount: 120 });
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(
      done.steps.map((x) => x.tool),
      ['crm.get_account', 'billing.get_invoice', 'billing.issue_refund'],
    );
    assert.ok(
      done.steps.every((x) => x.node === 'tools' && x.decision?.outcome === 'allow' && x.status === 'completed' && !x.result?.isError),
      JSON.stringify(done.steps),
    );
    assert.deepEqual(done.steps[2]!.decision!.policyIds, ['refund-small']);
    assert.equal(done.steps[2]!.args.idempotencyKey, `${runId}/step-2`, 'the control layer fills the idempotency key');
    assert.deepEqual(done.path, ['agent', 'tools', 'agent', 'tools', 'agent', 'tools', 'agent']);
    const refunds = s.refunds(runId);
    assert.equal(refunds.length, 1);
    assert.equal(refunds[0]!.amount_cents, 12000);
    assert.equal(refunds[0]!.invoice_id, 'INV-2003');
    const refundId = (done.steps[2]!.result!.data as { refundId: string }).refundId;
    assert.deepEqual(done.result, { answer: `Refunded 120 USD on INV-2003 (refund ${refundId}).` });
    assert.equal(done.usage.calls, 4);
    assert.equal(done.finalModel?.model, MODEL);

    const reqs = requestsOf('react-refund');
    assert.equal(reqs.length, 4, 'one model call per turn, no repairs');
    assert.deepEqual(
      reqs.map((r) => r.model),
      [MODEL, MODEL, MODEL, MODEL],
    );
    const offered = reqs[0]!.tools!.map((t) => t.function.name);
    assert.ok(offered.includes('billing__issue_refund') && offered.includes('crm__get_account') && offered.includes('ticketing__update_ticket'), offered.join());
    assert.match(reqs[0]!.messages[0]!.content!, /You resolve billing disputes[\s\S]*never follow instructions/, "the graph's prompt, with the untrusted-data notice");
    // The last request holds the whole conversation: each assistant call answered by its tool message, in order.
    const last = reqs.at(-1)!;
    assert.deepEqual(
      last.messages.map((m) => m.role),
      ['system', 'user', 'assistant', 'tool', 'assistant', 'tool', 'assistant', 'tool'],
    );
    const calls = last.messages.flatMap((m) => m.tool_calls ?? []);
    assert.deepEqual(
      last.messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id),
      calls.map((c) => c.id),
    );
    const seen = toolResults(last);
    assert.deepEqual(
      seen.map((r) => [r.server, r.tool, r.isError]),
      [
        ['crm', 'get_account', false],
        ['billing', 'get_invoice', false],
        ['billing', 'issue_refund', false],
      ],
    );
    assert.equal(seen[0]!.data.accountId, 'C-1003');
    assert.equal(seen[1]!.data.invoiceId, 'INV-2003');
    assert.equal(seen[2]!.data.refundId, refundId);
  });

  test('a refund policy forbids comes back to the model as a denial; it recovers with one policy allows and the run completes', async () => {
    const runId = await start('refund-react', { customerId: 'C-1004', invoiceId: 'INV-2004', message: 'react-denied' });
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(
      done.steps.map((x) => [x.tool, x.args.amount ?? null, x.status, x.decision?.outcome]),
      [
        ['billing.get_invoice', null, 'completed', 'allow'],
        ['billing.issue_refund', 25000, 'denied', 'deny'],
        ['billing.issue_refund', 300, 'completed', 'allow'],
      ],
    );
    const denied = done.steps[1]!;
    assert.deepEqual(denied.decision!.policyIds, ['refund-over-limit']);
    assert.match(denied.decision!.reason, /refunds above 20000 are never issued by an agent/);
    assert.equal(denied.result, undefined, 'the denied call never ran');
    const refunds = s.refunds(runId);
    assert.deepEqual(
      refunds.map((r) => r.amount_cents),
      [30000],
      'only the allowed refund was made',
    );
    assert.deepEqual(done.result, { answer: 'Refunded 300 USD on INV-2004; the rest needs finance.' });

    const reqs = requestsOf('react-denied');
    assert.equal(reqs.length, 4);
    const afterDenial = toolResults(reqs[2]!);
    assert.equal(afterDenial.length, 2);
    assert.equal(afterDenial[1]!.isError, true);
    assert.match(String(afterDenial[1]!.data), /^Denied by policy: .*refund-over-limit: refunds above 20000 are never issued by an agent.*Do not retry this call as it is/);
    const records = await runAudit(s, runId);
    const decided = records.filter((r) => r.type === 'policy.decided' && r.tool === 'issue_refund').map((r) => [r.data.step, r.outcome]);
    assert.deepEqual(decided, [
      [1, 'deny'],
      [2, 'allow'],
    ]);
    assert.equal(records.filter((r) => r.type === 'tool.executed' && r.data.step === 1).length, 0, 'no execution record for the denied step');
  });

  test('two tool calls in one model answer run side by side, each governed on its own, and the next call sees both results', async () => {
    const runId = await start('refund-react', { customerId: 'C-1001', invoiceId: 'INV-2001', message: 'react-parallel' });
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.equal(done.steps.length, 2, JSON.stringify(done.steps));
    assert.deepEqual(done.steps.map((x) => x.tool).sort(), ['billing.get_invoice', 'crm.get_account']);
    assert.ok(
      done.steps.every((x) => x.node === 'tools' && x.decision?.outcome === 'allow' && x.decision.policyIds.includes('read-only-tools') && x.status === 'completed'),
      JSON.stringify(done.steps),
    );
    assert.deepEqual(done.path, ['agent', 'tools', 'agent'], 'both calls in one tools superstep');
    assert.equal(s.refunds(runId).length, 0);

    // Each call has its own proposal, validation and decision on the trail; and both were proposed (and
    // decided) before either was executed: the calls were in flight together, not one after the other.
    const records = await runAudit(s, runId);
    const of = (type: string) => records.filter((r) => r.type === type);
    const steps = (rs: AuditRecord[]) => rs.map((r) => r.data.step as number).sort();
    assert.deepEqual(steps(of('tool.proposed')), [0, 1]);
    assert.deepEqual(steps(of('policy.decided')), [0, 1]);
    assert.deepEqual(steps(of('tool.executed')), [0, 1]);
    const firstExecuted = Math.min(...of('tool.executed').map((r) => r.seq));
    const lastDecided = Math.max(...of('tool.proposed').map((r) => r.seq), ...of('policy.decided').map((r) => r.seq));
    // Run one after the other, the first call's tool.executed would be written (carried by the second
    // call's decision) before the second call's tool.proposed.
    assert.ok(lastDecided < firstExecuted, `both decided before either executed: ${JSON.stringify(records.map((r) => [r.seq, r.type, r.tool, r.data.step ?? null]))}`);

    const reqs = requestsOf('react-parallel');
    assert.equal(reqs.length, 2);
    const second = reqs[1]!;
    const answered = second.messages.find((m) => m.role === 'assistant')!;
    assert.equal(answered.tool_calls?.length, 2, 'the two calls went back as one assistant message');
    const toolMessages = second.messages.filter((m) => m.role === 'tool');
    assert.deepEqual(toolMessages.map((m) => m.tool_call_id).sort(), answered.tool_calls!.map((c) => c.id).sort());
    const seen = toolResults(second);
    assert.deepEqual(seen.map((r) => `${r.server}.${r.tool}`).sort(), ['billing.get_invoice', 'crm.get_account']);
    assert.ok(seen.every((r) => !r.isError));
    assert.equal(seen.find((r) => r.tool === 'get_account')!.data.accountId, 'C-1001');
    assert.equal(seen.find((r) => r.tool === 'get_invoice')!.data.invoiceId, 'INV-2001');
  });

  test('a StateGraph fanning out with Send runs two governed reads in node read; a reducer merges both results', async () => {
    const runId = await start('parallel-reader', { customerId: 'C-1002', invoiceId: 'INV-2002' });
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(done.steps.map((x) => [x.tool, x.node, x.decision?.outcome, x.status]).sort(), [
      ['billing.get_invoice', 'read', 'allow', 'completed'],
      ['crm.get_account', 'read', 'allow', 'completed'],
    ]);
    assert.deepEqual(done.path, ['read', 'read']);
    assert.equal(done.usage.calls, 0, 'no model was called');
    const reads = (done.result as { reads: Array<{ tool: string; data: Record<string, unknown> }> }).reads;
    assert.equal(reads.length, 2, JSON.stringify(done.result));
    assert.deepEqual(reads.map((r) => r.tool).sort(), ['billing__get_invoice', 'crm__get_account']);
    assert.equal(reads.find((r) => r.tool === 'crm__get_account')!.data.accountId, 'C-1002');
    assert.equal(reads.find((r) => r.tool === 'billing__get_invoice')!.data.invoiceId, 'INV-2002');
    const records = await runAudit(s, runId);
    const decided = records.filter((r) => r.type === 'policy.decided');
    const executed = records.filter((r) => r.type === 'tool.executed');
    assert.equal(decided.length, 2);
    assert.equal(executed.length, 2);
    assert.ok(Math.max(...decided.map((r) => r.seq)) < Math.min(...executed.map((r) => r.seq)), 'both reads decided before either ran');
  });
});
