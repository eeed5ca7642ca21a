// What the scripted model servers share: a real HTTP server on 127.0.0.1, a record of every request
// received (path, headers, parsed body), a script of replies, and scripted failures.
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One scripted answer. */
export type ScriptReply =
  /** A tool call. `args` as a string is sent verbatim as the arguments text (to script malformed JSON). */
  | { toolCall: { name: string; args: Record<string, unknown> | string }; text?: string; truncated?: boolean }
  /** A plain answer (empty text scripts an empty response). */
  | { text: string; truncated?: boolean }
  /** An HTTP error with the provider's error body (`body` overrides it). */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answer (until the server closes). */
  | { hang: true }
  /** Answer `reply` after `delayMs`. */
  | { delayMs: number; reply: ScriptReply };

export interface Received<B> {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: B;
}

/** A script: a function of the request (and its 0-based number), or a list of replies taken in order (the last repeats). */
export type Script<B> = ((body: B, n: number) => ScriptReply) | ScriptReply[];

export interface ScriptedServer<B> {
  /** The URL to configure as the provider's `baseUrl`. */
  baseUrl: string;
  /** Bodies of the model requests received, in order. */
  requests: B[];
  /** Every model request with its path and headers. */
  received: Received<B>[];
  /** Requests the client gave up on: their connection closed before the reply was complete. */
  readonly abandoned: number;
  /** Resolves once `n` requests have been abandoned (a client that times out or is cancelled closes its request). */
  whenAbandoned(n?: number): Promise<void>;
  /** Replaces the script (between tests). */
  setScript(script: Script<B>): void;
  close(): Promise<void>;
}

export const DEFAULT_USAGE = { input: 50, output: 10 };

export interface Responder<B> {
  /** Whether this request is a model call (else 404). */
  matches(method: string, path: string): boolean;
  /** The error to send when `apiKey` is set and the request does not carry it; undefined when it does. */
  checkAuth?(headers: IncomingHttpHeaders, apiKey: string): { status: number; body: unknown } | undefined;
  /** The provider's error body for a scripted status. */
  errorBody(status: number): unknown;
  /** Writes a scripted success in the provider's wire format (JSON or streamed). */
  answer(reply: Extract<ScriptReply, { text: string } | { toolCall: unknown }>, body: B, res: ServerResponse, n: number): void | Promise<void>;
}

export async function startScripted<B>(responder: Responder<B>, script: Script<B>, { apiKey, basePath = '' }: { apiKey?: string; basePath?: string } = {}): Promise<ScriptedServer<B>> {
  const requests: B[] = [];
  const received: Received<B>[] = [];
  let current = script;
  let abandoned = 0;
  const events = new EventEmitter();
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!responder.matches(req.method ?? 'GET', path)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    res.once('close', () => {
      if (res.writableFinished) return;
      abandoned++;
      events.emit('abandoned');
    });
    const body = (await readJson(req)) as B;
    const n = requests.length;
    requests.push(body);
    received.push({ method: req.method!, path: req.url!, headers: req.headers, body });
    const denied = apiKey ? responder.checkAuth?.(req.headers, apiKey) : undefined;
    if (denied) {
      res.writeHead(denied.status, { 'content-type': 'application/json' }).end(JSON.stringify(denied.body));
      return;
    }
    let reply = typeof current === 'function' ? current(body, n) : current[Math.min(n, current.length - 1)]!;
    while ('delayMs' in reply || 'hang' in reply) {
      if ('hang' in reply) return; // the response stays open; close() ends it
      const { delayMs, reply: next } = reply;
      await new Promise((r) => setTimeout(r, delayMs));
      if (res.destroyed) return;
      reply = next;
    }
    if ('status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body ?? responder.errorBody(reply.status)));
      return;
    }
    await responder.answer(reply, body, res, n + 1);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}${basePath}`,
    requests,
    received,
    get abandoned() {
      return abandoned;
    },
    async whenAbandoned(n = 1) {
      while (abandoned < n) await once(events, 'abandoned');
    },
    setScript(s) {
      current = s;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : {};
}

/** Splits `s` into `parts` pieces (some possibly empty), as a streaming server would send it. */
export function pieces(s: string, parts = 3): string[] {
  const size = Math.max(1, Math.ceil(s.length / parts));
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out.length ? out : [''];
}

/** The arguments text of a scripted tool call. */
export const argsText = (args: Record<string, unknown> | string): string => (typeof args === 'string' ? args : JSON.stringify(args));

export interface DelimitedResult {
  step: number;
  server: string;
  tool: string;
  isError: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a scripted tool result, read field by field by the tests
  data: any;
}

const DELIMITED = /^<tool-result step="(\d+)" server="([^"]*)" tool="([^"]*)">([\s\S]*)<\/tool-result>$/;

/** Parses a tool result as the planner delimits it; throws when the content is not exactly one delimited result. */
export function parseToolResult(content: string): DelimitedResult {
  const m = DELIMITED.exec(content);
  if (!m) throw new Error(`not a delimited tool result: ${content.slice(0, 200)}`);
  const { isError, data } = JSON.parse(m[4]!) as { isError: boolean; data: unknown };
  return { step: Number(m[1]), server: m[2]!, tool: m[3]!, isError, data };
}
