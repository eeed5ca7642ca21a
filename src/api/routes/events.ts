// GET /v1/events: a server-sent event stream of what the caller may see (approvals, run status, questions), read
// from the audit store every replica shares (src/events/hub.ts) and filtered per caller by the core's one rule
// (src/core/access.ts `maySee`). Each event's `id:` is its audit `seq`: a client that reconnects with
// `Last-Event-ID` (or `?lastEventId=`) gets what it missed, then the live stream.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { maySee } from '../../core/access.js';
import type { Principal } from '../../core/types.js';
import { EVENT_TYPES, type EventType, type FeedItem } from '../../events/feed.js';
import { principalOf } from '../auth.js';
import { logOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { z } from '../openapi/zod.js';

/** A comment line this often keeps proxies from closing an idle stream; the caller's token is checked again then. */
export const HEARTBEAT_MS = 15_000;
/** The reconnection delay the stream asks clients for (`retry:`). */
export const RETRY_MS = 3_000;
/** Records replayed on resume, at most: a client further behind reads the rest from the API (runs, approvals). */
const MAX_REPLAY = 5_000;
const REPLAY_PAGE = 500;
/** Bytes waiting for a client before the stream gives up on it. */
const MAX_BUFFERED = 1 << 20;

const Cursor = z
  .string()
  .regex(/^\d{1,15}$/, 'an event id this stream sent')
  .transform(Number);

export const EventsQuerySchema = z.strictObject({
  /** Only these event types (comma-separated); all by default. */
  types: z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()))
    .pipe(z.array(z.enum(EVENT_TYPES)).min(1))
    .optional()
    .openapi({ description: `Only these event types, comma-separated: ${EVENT_TYPES.join(', ')}` }),
  /** Where to resume, for clients that cannot send the `Last-Event-ID` header. */
  lastEventId: Cursor.optional().openapi({ description: 'Resume after this event id (as the Last-Event-ID header does)' }),
});

export function eventRoutes(deps: Pick<ApiDeps, 'events' | 'verifier'>): Router {
  const r = Router();
  r.get('/events', eventStream(deps));
  return r;
}

/**
 * The stream for `req.principal` (set by the caller's authentication: the bearer token here; the inbox may mount
 * the same handler behind its session). With a bearer token, the token is verified again at every heartbeat and
 * the stream ends once it expires or is revoked.
 */
export function eventStream({ events, verifier }: Pick<ApiDeps, 'events' | 'verifier'>): RequestHandler {
  return async (req, res) => {
    const p = principalOf(req);
    const q = EventsQuerySchema.parse(req.query);
    const header = req.header('last-event-id');
    const resumeAt = header !== undefined && header !== '' ? Cursor.parse(header) : q.lastEventId;
    const wanted = q.types ? new Set<EventType>(q.types) : undefined;
    const log = logOf(req);

    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    // nginx and similar proxies would otherwise buffer the stream.
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    res.write(`retry: ${RETRY_MS}\n\n`);

    let ended = false;
    const timer: { heartbeat?: NodeJS.Timeout } = {};
    let off: (() => void) | undefined;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(timer.heartbeat);
      off?.();
      res.end();
    };
    // A client that reads too slowly is let go: it reconnects with Last-Event-ID and catches up from the store.
    const out = new Sender(res, p, wanted, end);
    req.on('close', end);
    res.on('error', end);

    // Live events that arrive while the missed ones are replayed wait here, so nothing is lost or sent out of turn.
    let pending: FeedItem[] | undefined = [];
    try {
      off = await events.subscribe((items) => (pending ? pending.push(...items) : out.send(items)), end);
      if (ended) return void off();
      if (resumeAt !== undefined) await replay(events, resumeAt, out, () => ended);
      const held = pending;
      pending = undefined;
      out.send(held);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'event stream failed to start');
      return end();
    }
    timer.heartbeat = setInterval(() => void beat(), HEARTBEAT_MS);
    async function beat() {
      if (!(await stillValid(req, verifier))) return end();
      if (!ended) res.write(': heartbeat\n\n');
    }
  };
}

/** Writes the events the caller may see, each once (a replayed event may also arrive live). */
class Sender {
  private readonly sent = new Set<string>();

  constructor(
    private readonly res: Response,
    private readonly p: Principal,
    private readonly wanted: Set<EventType> | undefined,
    private readonly tooSlow: () => void,
  ) {}

  send(items: FeedItem[]): void {
    let chunk = '';
    for (const it of items) {
      if (this.wanted && !this.wanted.has(it.event.type)) continue;
      if (!maySee(this.p, it.audience)) continue;
      // One record can make several events (approval.requested and run.status): they share the record's id.
      const key = `${it.seq}/${it.event.type}`;
      if (this.sent.has(key)) continue;
      this.sent.add(key);
      chunk += `id: ${it.seq}\nevent: ${it.event.type}\ndata: ${JSON.stringify(it.event)}\n\n`;
    }
    if (this.sent.size > 10_000) this.sent.clear();
    if (!chunk || this.res.writableEnded) return;
    this.res.write(chunk);
    if (this.res.writableLength > MAX_BUFFERED) this.tooSlow();
  }
}

async function replay(events: ApiDeps['events'], after: number, out: Sender, ended: () => boolean): Promise<void> {
  let cursor = after;
  for (let read = 0; read < MAX_REPLAY && !ended(); read += REPLAY_PAGE) {
    const page = await events.since(cursor, REPLAY_PAGE);
    out.send(page.items);
    cursor = page.last;
    if (!page.more) return;
  }
}

/** The bearer token, verified again (expiry, revocation); a session-authenticated stream (no bearer) is the session's to end. */
async function stillValid(req: Request, verifier: ApiDeps['verifier']): Promise<boolean> {
  const m = /^Bearer (.+)$/.exec(req.header('authorization') ?? '');
  if (!m) return true;
  try {
    await verifier.verify(m[1]!);
    return true;
  } catch {
    return false;
  }
}
