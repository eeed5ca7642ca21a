// A server-sent events client for tests: reads a real text/event-stream response with fetch and parses it.
export interface SseEvent {
  id?: string;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the fields it asserts
  data: any;
}

export interface SseStream {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** Comment lines (heartbeats) and `retry:` values seen. */
  retry?: number;
  /** Resolves with the first event (seen or to come) matching `pred`; rejects after `timeoutMs` as a guard, not a measure. */
  next(pred: (e: SseEvent) => boolean, timeoutMs?: number, what?: string): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openStream(url: string, opts: { token?: string; lastEventId?: string } = {}): Promise<SseStream> {
  const ctl = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId;
  const res = await fetch(url, { headers, signal: ctl.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    events,
    next(pred, timeoutMs = 30_000, what = 'event') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (!hit) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} on the stream; got ${JSON.stringify(events.map((e) => [e.id, e.event, e.data?.runId, e.data?.status]))}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    ended: Promise.resolve(),
    close: () => ctl.abort(),
  };
  if (!res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) return stream;
  stream.ended = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const e: Partial<SseEvent> & { lines: string[] } = { lines: [] };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'id') e.id = value;
            else if (field === 'event') e.event = value;
            else if (field === 'data') e.lines.push(value);
            else if (field === 'retry') stream.retry = Number(value);
          }
          if (e.lines.length) events.push({ ...(e.id ? { id: e.id } : {}), event: e.event ?? 'message', data: JSON.parse(e.lines.join('\n')) });
          for (const w of [...waiters]) w();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return stream;
}
