// A real HTTP server speaking the OpenAI chat-completions wire format (JSON, and SSE
// `chat.completion.chunk` streaming with tool-call deltas split across chunks and usage in a final
// chunk when `stream_options.include_usage`), answering from a script. LangChain's ChatOpenAI (or
// AzureChatOpenAI: `/openai/deployments/<name>/chat/completions`) does the talking in the tests.
import type { ServerResponse } from 'node:http';
import { argsText, DEFAULT_USAGE, parseToolResult, pieces, startScripted, type DelimitedResult, type Script, type ScriptedServer, type ScriptReply } from './scriptedCommon.js';

export type { ScriptReply } from './scriptedCommon.js';

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
}

export type ScriptedOpenAI = ScriptedServer<ChatRequest>;

export interface ScriptedOpenAIOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (or Azure's `api-key`), else 401. */
  apiKey?: string;
  /** The model id the server reports (default: the requested one). */
  model?: string;
  usage?: { input: number; output: number };
}

export async function startScriptedOpenAI(script: Script<ChatRequest>, opts: ScriptedOpenAIOptions = {}): Promise<ScriptedOpenAI> {
  const usage = opts.usage ?? DEFAULT_USAGE;
  return startScripted<ChatRequest>(
    {
      matches: (method, path) => method === 'POST' && path.endsWith('/chat/completions'),
      checkAuth: (headers, key) =>
        headers.authorization === `Bearer ${key}` || headers['api-key'] === key
          ? undefined
          : { status: 401, body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } } },
      errorBody: (status) => ({ error: { message: status === 429 ? 'Rate limit reached' : `scripted error ${status}`, type: status === 429 ? 'rate_limit_exceeded' : 'server_error' } }),
      answer: (reply, body, res, n) => answer(reply, body, res, n, opts.model ?? body.model, usage),
    },
    script,
    { apiKey: opts.apiKey, basePath: '/v1' },
  );
}

function answer(reply: Extract<ScriptReply, { text: string } | { toolCall: unknown }>, body: ChatRequest, res: ServerResponse, n: number, model: string, u: { input: number; output: number }) {
  const id = `chatcmpl-${n}`;
  const call = 'toolCall' in reply ? { id: `call_${n}`, name: reply.toolCall.name, arguments: argsText(reply.toolCall.args) } : undefined;
  const content = reply.text ?? null;
  const finish = reply.truncated ? 'length' : call ? 'tool_calls' : 'stop';
  const usage = { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output };
  if (body.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (obj: object) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const chunk = (delta: object, finish_reason: string | null = null) =>
      send({ id, object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason }], ...(body.stream_options?.include_usage ? { usage: null } : {}) });
    chunk({ role: 'assistant', content: '' });
    if (content) for (const p of pieces(content)) chunk({ content: p });
    if (call) {
      // The call's id and name come first, then its arguments in several deltas, as OpenAI sends them.
      chunk({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] });
      for (const p of pieces(call.arguments)) chunk({ tool_calls: [{ index: 0, function: { arguments: p } }] });
    }
    chunk({}, finish);
    if (body.stream_options?.include_usage) send({ id, object: 'chat.completion.chunk', created: 0, model, choices: [], usage });
    res.end('data: [DONE]\n\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id,
      object: 'chat.completion',
      created: 0,
      model,
      choices: [
        {
          index: 0,
          finish_reason: finish,
          message: { role: 'assistant', content, ...(call ? { tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] } : {}) },
        },
      ],
      usage,
    }),
  );
}

/** The tool results the model has seen so far, in order (`tool` messages, parsed from their delimiters). */
export function toolResults(req: ChatRequest): DelimitedResult[] {
  return req.messages.filter((m) => m.role === 'tool').map((m) => parseToolResult(m.content ?? ''));
}
