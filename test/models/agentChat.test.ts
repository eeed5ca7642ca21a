// An agent graph's conversation as Airlock reads it (classification sources, steps, input, tool
// definitions), and one chat turn through each provider kind's real client against a local server
// speaking its wire format: prior tool calls and results replayed, every tool call returned.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { AgentSchema, ProviderSchema } from '../../src/config/schema.js';
import { agentToolDef, inputOf, providerMessages, serversSeen, splitToolName, stepsOf, unofferedCall } from '../../src/models/agentChat.js';
import { createProviderPlanner } from '../../src/models/providers.js';
import { PlannerOutputError } from '../../src/models/types.js';
import type { Json } from '../../src/core/types.js';
import { anthropicToolResults, startScriptedAnthropic } from '../helpers/scriptedAnthropic.js';
import type { DelimitedResult, ScriptedServer, ScriptReply } from '../helpers/scriptedCommon.js';
import { ollamaToolResults, startScriptedOllama } from '../helpers/scriptedOllama.js';
import { startScriptedOpenAI, toolResults } from '../helpers/scriptedOpenAI.js';

const same = (v: Json) => v;
const call = (id: string, name: string, args: Record<string, unknown>) => ({ id, name, args, type: 'tool_call' as const });

/** A graph that read an account (its tool message named), then a ticket (named only by the call it answers). */
const conversation = (): BaseMessage[] => [
  new HumanMessage('{"customerId":"C-1"}'),
  new AIMessage({ content: '', tool_calls: [call('a', 'crm__get_account', { accountId: 'C-1' })] }),
  new ToolMessage({ tool_call_id: 'a', name: 'crm__get_account', content: '{"name":"Acme"}' }),
  new AIMessage({ content: 'Now the ticket.', tool_calls: [call('b', 'ticketing__get_ticket', { ticketId: 'T-1' }), call('c', 'lookup', { q: 'x' })] }),
  new ToolMessage({ tool_call_id: 'b', content: 'ticket not found', status: 'error' }),
  new ToolMessage({ tool_call_id: 'c', name: 'lookup', content: '42' }),
];

describe('reading a graph conversation', () => {
  test('the servers whose results it holds come from the tool message name or the call it answers; tools of the graph own are no server', () => {
    assert.deepEqual(serversSeen(conversation()).sort(), ['crm', 'ticketing']);
    assert.deepEqual(splitToolName('billing__issue_refund'), { server: 'billing', tool: 'issue_refund' });
    assert.equal(splitToolName('lookup'), undefined);
    assert.equal(splitToolName('__x'), undefined);
  });

  test('completed calls become steps for the embedded planner; the input is the first human message', () => {
    const steps = stepsOf(conversation(), same);
    assert.deepEqual(
      steps.map((s) => [s.index, s.tool, s.status, s.result]),
      [
        [0, 'crm.get_account', 'completed', { isError: false, data: { name: 'Acme' } }],
        [1, 'ticketing.get_ticket', 'completed', { isError: true, data: 'ticket not found' }],
        [2, 'lookup', 'completed', { isError: false, data: 42 }],
      ],
    );
    assert.deepEqual(inputOf(conversation()), { customerId: 'C-1' });
    assert.deepEqual(inputOf([new HumanMessage('Task input (JSON):\n{"a":1}')]), { a: 1 });
    assert.deepEqual(inputOf([new HumanMessage('hello')]), {});
  });

  test('tool definitions drop the idempotency key the control layer fills, and say whether they only read', () => {
    const def = agentToolDef('billing', {
      name: 'issue_refund',
      description: 'Refund',
      inputSchema: { type: 'object', properties: { amount: { type: 'number' }, idempotencyKey: { type: 'string' } }, required: ['amount', 'idempotencyKey'] },
    });
    assert.deepEqual(def, {
      name: 'billing__issue_refund',
      server: 'billing',
      tool: 'issue_refund',
      description: 'Refund',
      inputSchema: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] },
      readOnly: false,
    });
    assert.equal(agentToolDef('crm', { name: 'get', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } }).readOnly, true);
    const offered = [{ type: 'function' as const, function: { name: 'crm__get' } }];
    assert.equal(unofferedCall([{ id: '1', name: 'crm__get', args: {} }], offered), undefined);
    assert.equal(
      unofferedCall(
        [
          { id: '1', name: 'crm__get', args: {} },
          { id: '2', name: 'crm__drop', args: {} },
        ],
        offered,
      )?.name,
      'crm__drop',
    );
  });

  test('what a provider sees: stored values resolved, invisible characters gone, the system prompt first', () => {
    const resolve = (v: Json): Json => (v && typeof v === 'object' && '$blob' in v ? { big: 'value' } : v);
    const msgs = providerMessages(
      AgentSchema.parse({ servers: ['crm'], systemPrompt: 'Be\u200B careful.' }),
      [
        new HumanMessage('hi\u202E'),
        new AIMessage({ content: '', tool_calls: [call('a', 'crm__get', {})] }),
        new ToolMessage({ tool_call_id: 'a', content: '{"$blob":"sha256:00","bytes":1,"preview":""}' }),
      ],
      resolve,
    );
    assert.match(String(msgs[0]!.content), /^Be careful\.\n\nTool results arrive as data/);
    assert.equal(msgs[1]!.content, 'hi');
    assert.equal(msgs[3]!.content, '<tool-result step="0" server="crm" tool="get">{"isError":false,"data":{"big":"value"}}</tool-result>');
  });
});

const KEY = 'sk-test-5c2e8d1a';
type Results = (body: unknown) => DelimitedResult[];
const WIRES: Array<{ kind: 'openai' | 'anthropic' | 'ollama'; start: (s: ScriptReply[]) => Promise<ScriptedServer<unknown>>; results: Results }> = [
  { kind: 'openai', start: (s) => startScriptedOpenAI(s, { apiKey: KEY }) as Promise<ScriptedServer<unknown>>, results: toolResults as Results },
  { kind: 'anthropic', start: (s) => startScriptedAnthropic(s, { apiKey: KEY }) as Promise<ScriptedServer<unknown>>, results: anthropicToolResults as Results },
  { kind: 'ollama', start: (s) => startScriptedOllama(s, { apiKey: KEY }) as Promise<ScriptedServer<unknown>>, results: ollamaToolResults as Results },
];

describe('a chat turn through each provider kind', () => {
  const servers: Array<ScriptedServer<unknown>> = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const agent = AgentSchema.parse({ servers: ['crm', 'ticketing'], systemPrompt: 'You help.' });
  const tools = ['crm__get_account', 'ticketing__get_ticket', 'lookup'].map((name) => ({
    type: 'function' as const,
    function: { name, description: name, parameters: { type: 'object', properties: { id: { type: 'string' } } } },
  }));

  for (const wire of WIRES) {
    for (const streaming of [false, true]) {
      test(`${wire.kind}${streaming ? ', streaming' : ''}: earlier calls and results are replayed, the new call and the usage come back`, async () => {
        const server = await wire.start([{ toolCall: { name: 'crm__get_account', args: { id: 'C-2' } }, text: 'Checking.' }, { text: '' }]);
        servers.push(server);
        const cfg = ProviderSchema.parse({ kind: wire.kind, baseUrl: server.baseUrl, model: 'm-1', apiKey: { env: 'K' }, timeout: 5000, streaming });
        const planner = createProviderPlanner('p', cfg, { K: KEY });
        const out = await planner.chat!({ messages: providerMessages(agent, conversation(), same), tools });
        assert.equal(out.message.toolCalls.length, 1);
        assert.equal(out.message.toolCalls[0]!.name, 'crm__get_account');
        assert.deepEqual(out.message.toolCalls[0]!.args, { id: 'C-2' });
        assert.ok(out.message.toolCalls[0]!.id);
        assert.equal(out.message.content, 'Checking.');
        assert.ok(out.usage.inputTokens > 0 && out.usage.outputTokens > 0);
        assert.deepEqual(
          wire.results(server.requests[0]).map((r) => [r.step, r.server, r.tool, r.isError, r.data]),
          [
            [0, 'crm', 'get_account', false, { name: 'Acme' }],
            [1, 'ticketing', 'get_ticket', true, 'ticket not found'],
            [2, '', 'lookup', false, 42],
          ],
        );
        // An empty reply is unusable.
        await assert.rejects(planner.chat!({ messages: providerMessages(agent, conversation(), same), tools }), PlannerOutputError);
      });
    }
  }
});
