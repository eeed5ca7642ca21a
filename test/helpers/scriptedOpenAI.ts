// A real HTTP server speaking the OpenAI chat-completions wire format (JSON and SSE streaming),
// answering from a script. LangChain's ChatOpenAI client does the talking in the tests.
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  stream?: boolean;
}

export type ScriptReply = { toolCall: { name: string; args: Record<string, unknown> } } | { text: string } | { status: number; body: unknown };

export interface ScriptedOpenAI {
  baseUrl: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<ChatRequest> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as ChatRequest;
}

export async function startScriptedOpenAI(script: (req: ChatRequest) => ScriptReply): Promise<ScriptedOpenAI> {
  const requests: ChatRequest[] = [];
  let n = 0;
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const body = await readJson(req);
    requests.push(body);
    const reply = script(body);
    if ('status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
      return;
    }
    const id = `chatcmpl-${++n}`;
    const toolCalls =
      'toolCall' in reply ? [{ index: 0, id: `call_${n}`, type: 'function', function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.args) } }] : undefined;
    const content = 'text' in reply ? reply.text : null;
    const finish = toolCalls ? 'tool_calls' : 'stop';
    const usage = { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60 };
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object, finish_reason: string | null) =>
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model: body.model, choices: [{ index: 0, delta, finish_reason }] })}\n\n`);
      chunk({ role: 'assistant', content: content ?? '', ...(toolCalls ? { tool_calls: toolCalls } : {}) }, null);
      chunk({}, finish);
      res.end('data: [DONE]\n\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id,
        object: 'chat.completion',
        created: 0,
        model: body.model,
        choices: [{ index: 0, finish_reason: finish, message: { role: 'assistant', content, ...(toolCalls ? { tool_calls: toolCalls.map(({ index: _i, ...t }) => t) } : {}) } }],
        usage,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The tool results the model has seen so far, in order (parsed JSON content of `tool` messages). */
export function toolResults(req: ChatRequest): Array<{ isError: boolean; data: any }> {
  return req.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content ?? 'null'));
}
