// A real HTTP server speaking Ollama's native chat API (POST /api/chat): `message.tool_calls` with
// `function.arguments` as an object, `prompt_eval_count` / `eval_count`, and NDJSON streaming (text in
// several lines, the tool calls whole in one line as Ollama sends them, then a `done` line with the
// counts). `stream: false` gets one JSON object. LangChain's ChatOllama (the `ollama` client) does the
// talking; it always asks for a stream.
import type { ServerResponse } from 'node:http';
import { DEFAULT_USAGE, parseToolResult, pieces, startScripted, type DelimitedResult, type Script, type ScriptedServer, type ScriptReply } from './scriptedCommon.js';

export interface OllamaChatRequest {
  model: string;
  messages: Array<{ role: string; content: string; tool_calls?: Array<{ function: { name: string; arguments: unknown } }> }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  stream?: boolean;
  options?: { temperature?: number; num_predict?: number };
}

export type ScriptedOllama = ScriptedServer<OllamaChatRequest>;

export async function startScriptedOllama(script: Script<OllamaChatRequest>, opts: { apiKey?: string; model?: string; usage?: { input: number; output: number } } = {}): Promise<ScriptedOllama> {
  const usage = opts.usage ?? DEFAULT_USAGE;
  return startScripted<OllamaChatRequest>(
    {
      matches: (method, path) => method === 'POST' && path === '/api/chat',
      // Ollama itself has no authentication; a proxy in front of it (or ollama.com) checks a bearer token.
      checkAuth: (headers, key) => (headers.authorization === `Bearer ${key}` ? undefined : { status: 401, body: { error: 'unauthorized' } }),
      errorBody: (status) => ({ error: `scripted error ${status}` }),
      answer: (reply, body, res) => answer(reply, body, res, opts.model ?? body.model, usage),
    },
    script,
    { apiKey: opts.apiKey },
  );
}

function answer(reply: Extract<ScriptReply, { text: string } | { toolCall: unknown }>, body: OllamaChatRequest, res: ServerResponse, model: string, u: { input: number; output: number }) {
  const created_at = new Date(0).toISOString();
  const text = reply.text ?? '';
  // Ollama sends arguments as an object; a string scripts a model that produced malformed arguments.
  const toolCalls = 'toolCall' in reply ? [{ function: { name: reply.toolCall.name, arguments: reply.toolCall.args } }] : undefined;
  const done = {
    done: true,
    done_reason: reply.truncated ? 'length' : 'stop',
    total_duration: 1000,
    load_duration: 10,
    prompt_eval_count: u.input,
    prompt_eval_duration: 100,
    eval_count: u.output,
    eval_duration: 800,
  };
  if (body.stream === false) {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ model, created_at, message: { role: 'assistant', content: text, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, ...done }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const line = (obj: object) => res.write(`${JSON.stringify({ model, created_at, ...obj })}\n`);
  if (text) for (const p of pieces(text)) line({ message: { role: 'assistant', content: p }, done: false });
  if (toolCalls) line({ message: { role: 'assistant', content: '', tool_calls: toolCalls }, done: false });
  line({ message: { role: 'assistant', content: '' }, ...done });
  res.end();
}

/** The tool results in a request, in order (`tool` messages, parsed from their delimiters). */
export function ollamaToolResults(req: OllamaChatRequest): DelimitedResult[] {
  return req.messages.filter((m) => m.role === 'tool').map((m) => parseToolResult(m.content));
}
