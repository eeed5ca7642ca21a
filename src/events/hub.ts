// The event stream's source: the audit store, which every API replica shares, tailed by one poller per process
// while at least one client listens, and fanned out to the connected clients. No in-process bus is the truth: a
// replica sees what any worker recorded, and a client that reconnects resumes from the last `seq` it received.
//
// Order: SQLite hands out `seq` under its write lock, so records appear in `seq` order and a cursor is exact.
// PostgreSQL takes `seq` from a sequence before the transaction commits, so a record can appear after one with a
// higher `seq`: the poller re-reads the last few seconds (GRACE) each time and skips what it already delivered.
import type { AuditRecord, AuditStore } from '../audit/types.js';
import type { Logger } from '../log/logger.js';
import { Feed, STREAMED_TYPES, type FeedItem } from './feed.js';

export interface HubOptions {
  /** How often the store is read while clients listen. */
  pollMs?: number;
  /** Records per read. */
  batch?: number;
}

type Listener = (items: FeedItem[]) => void;

/** How long a PostgreSQL reader keeps looking below records it has seen, for transactions that commit late. */
const PG_GRACE_MS = 5_000;

export class EventHub {
  readonly feed: Feed;
  private readonly listeners = new Set<Listener>();
  private readonly closers = new Set<() => void>();
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly graceMs: number;
  /** Records above `floor` are read each poll; `seen` holds those above it already delivered, with when. */
  private floor: number | undefined;
  private readonly seen = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  /** Bumped when polling stops: a read still in flight then delivers nothing. */
  private generation = 0;
  private closed = false;

  constructor(
    private readonly audit: AuditStore,
    private readonly log: Logger,
    opts: HubOptions = {},
  ) {
    this.feed = new Feed(audit);
    this.pollMs = opts.pollMs ?? 250;
    this.batch = opts.batch ?? 500;
    this.graceMs = audit.kind === 'postgres' ? PG_GRACE_MS : 0;
  }

  /**
   * Listens from now on (the poller starts with the first listener, at the store's last record). Resolves once
   * the listener is sure to receive every record written after the call; returns the unsubscribe function.
   * `close` is called when the hub shuts down.
   */
  async subscribe(listener: Listener, close: () => void): Promise<() => void> {
    if (this.closed) throw new Error('the event hub is closed');
    this.listeners.add(listener);
    this.closers.add(close);
    const off = () => {
      this.listeners.delete(listener);
      this.closers.delete(close);
      if (this.listeners.size === 0) this.stop();
    };
    try {
      if (this.floor === undefined) await (this.starting ??= this.start());
    } catch (err) {
      off();
      throw err;
    }
    return off;
  }

  /** Records written after `after`, up to `limit` of them, as events (a client's resume). */
  async since(after: number, limit: number): Promise<{ items: FeedItem[]; last: number; more: boolean }> {
    const records = await this.audit.query({ after, types: STREAMED_TYPES, limit });
    return { items: await this.itemsOf(records), last: records.at(-1)?.seq ?? after, more: records.length === limit };
  }

  /** Ends every stream and stops polling (server shutdown). */
  close(): void {
    this.closed = true;
    for (const c of [...this.closers]) c();
    this.listeners.clear();
    this.closers.clear();
    this.stop();
  }

  private async start(): Promise<void> {
    const generation = this.generation;
    let last: number;
    try {
      last = await this.audit.lastSeq();
    } catch (err) {
      this.starting = undefined;
      throw err;
    }
    if (generation !== this.generation) return;
    this.floor = last;
    this.starting = undefined;
    this.schedule(this.pollMs);
  }

  private stop(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.floor = undefined;
    this.starting = undefined;
    this.seen.clear();
  }

  private schedule(ms: number): void {
    if (this.listeners.size === 0 || this.closed) return;
    this.timer = setTimeout(() => void this.poll(), ms);
    // Listeners keep their own sockets open; the poller alone never keeps the process alive.
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const generation = this.generation;
    let full = false;
    try {
      const records = await this.audit.query({ after: this.floor!, types: STREAMED_TYPES, limit: this.batch });
      if (generation !== this.generation) return;
      full = records.length === this.batch;
      const now = Date.now();
      const fresh = records.filter((r) => !this.seen.has(r.seq));
      for (const r of fresh) this.seen.set(r.seq, now);
      this.advance(now, full ? records.at(-1)!.seq : undefined);
      const items = await this.itemsOf(fresh);
      if (generation !== this.generation || !items.length) return;
      for (const l of [...this.listeners]) {
        try {
          l(items);
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'event stream: a listener failed');
        }
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'event stream: reading the audit store failed; retrying');
    } finally {
      if (generation === this.generation) this.schedule(full ? 0 : this.pollMs);
    }
  }

  /** Moves the floor past records delivered longer ago than the grace period (at once with SQLite). */
  private advance(now: number, atLeast?: number): void {
    let floor = this.floor!;
    for (const [seq, at] of this.seen) if (now - at >= this.graceMs && seq > floor) floor = seq;
    // A full page: the next read continues after it, whatever the grace (catching up a backlog).
    if (atLeast !== undefined) floor = Math.max(floor, atLeast);
    this.floor = floor;
    for (const seq of this.seen.keys()) if (seq <= floor) this.seen.delete(seq);
  }

  private async itemsOf(records: AuditRecord[]): Promise<FeedItem[]> {
    const out: FeedItem[] = [];
    for (const r of records) out.push(...(await this.feed.itemsOf(r)));
    return out;
  }
}
