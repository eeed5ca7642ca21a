// A real HTTP server speaking Anthropic's Messages API (POST /v1/messages): JSON `tool_use` content
// blocks with `usage`, and SSE streaming (message_start, content_block_start, content_block_delta with
// text_delta / input_json_delta, content_block_stop, message_delta, message_stop). It checks the
// `x-api-key` header. LangChain's ChatAnthropic (the official SDK underneath) does the talking.
import type { ServerResponse } from 'node:http';
import { argsText, DEFAULT_USAGE, parseToolResult, pieces, startScripted, type DelimitedResult, type Script, type ScriptedServer, type ScriptReply } from './scriptedCommon.js';

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string | Array<{ type: 'text'; text: string }>; is_error?: boolean };

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  system?: string | Array<{ type: 'text'; text: string }>;
  messages: Array<{ role: 'user' | 'assistant'; content: string | Block[] }>;
  tools?: Array<{ name: string; description?: string; input_schema: unknown }>;
  stream?: boolean;
  temperature?: number;
}

export type ScriptedAnthropic = ScriptedServer<MessagesRequest>;

export async function startScriptedAnthropic(script: Script<MessagesRequest>, opts: { apiKey?: string; model?: string; usage?: { input: number; output: number } } = {}): Promise<ScriptedAnthropic> {
  const usage = opts.usage ?? DEFAULT_USAGE;
  const errorType = (status: number) =>
    ({ 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 429: 'rate_limit_error', 529: 'overloaded_error' })[status] ?? 'api_error';
  return startScripted<MessagesRequest>(
    {
      matches: (method, path) => method === 'POST' && path === '/v1/messages',
      checkAuth: (headers, key) => (headers['x-api-key'] === key ? undefined : { status: 401, body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } } }),
      errorBody: (status) => ({ type: 'error', error: { type: errorType(status), message: `scripted ${errorType(status)}` } }),
      answer: (reply, body, res, n) => answer(reply, body, res, n, opts.model ?? body.model, usage),
    },
    script,
    { apiKey: opts.apiKey },
  );
}

function answer(reply: Extract<ScriptReply, { text: string } | { toolCall: unknown }>, body: MessagesRequest, res: ServerResponse, n: number, model: string, u: { input: number; output: number }) {
  const id = `msg_${n}`;
  const text = reply.text ?? '';
  const call = 'toolCall' in reply ? { id: `toolu_${n}`, name: reply.toolCall.name, args: reply.toolCall.args } : undefined;
  const stop_reason = reply.truncated ? 'max_tokens' : call ? 'tool_use' : 'end_turn';
  if (body.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    // As the API does: output_tokens starts at 1 and message_delta carries the final cumulative count.
    send('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: u.input, output_tokens: 1 } } });
    send('ping', {});
    let index = 0;
    if (text) {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const p of pieces(text)) send('content_block_delta', { index, delta: { type: 'text_delta', text: p } });
      send('content_block_stop', { index });
      index++;
    }
    if (call) {
      send('content_block_start', { index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } });
      for (const p of pieces(argsText(call.args))) send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: p } });
      send('content_block_stop', { index });
    }
    send('message_delta', { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: u.output } });
    send('message_stop', {});
    res.end();
    return;
  }
  const content: Block[] = [];
  if (text) content.push({ type: 'text', text });
  // JSON answers carry `input` as an object; a string scripts a malformed input.
  if (call) content.push({ type: 'tool_use', id: call.id, name: call.name, input: call.args });
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ id, type: 'message', role: 'assistant', model, content, stop_reason, stop_sequence: null, usage: { input_tokens: u.input, output_tokens: u.output } }));
}

/** The tool results in a request, in order (`tool_result` blocks of user messages, parsed from their delimiters). */
export function anthropicToolResults(req: MessagesRequest): DelimitedResult[] {
  const out: DelimitedResult[] = [];
  for (const m of req.messages) {
    if (typeof m.content === 'string') continue;
    for (const b of m.content) {
      if (b.type !== 'tool_result') continue;
      out.push(parseToolResult(typeof b.content === 'string' ? b.content : b.content.map((c) => c.text).join('')));
    }
  }
  return out;
}

/** The system prompt as one string. */
export const anthropicSystem = (req: MessagesRequest): string => (typeof req.system === 'string' ? req.system : (req.system ?? []).map((b) => b.text).join(''));
