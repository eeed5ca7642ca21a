// The embedded audit store: one SQLite file (WAL), shared by the worker, the API and the CLI.
import type Database from 'better-sqlite3';
import { openSqliteDatabase } from '../store/sqliteDriver.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { appendAnchor } from './anchorFile.js';
import { anchorHash, chainRecord, GENESIS } from './chain.js';
import { FileIdentity, type AuditStoreOptions } from './identity.js';
import type { AuditAnchor, AuditEventInput, AuditQuery, AuditRecord, AuditStore } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  chain TEXT NOT NULL,
  chain_seq INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  run_id TEXT, principal TEXT, on_behalf_of TEXT, agent TEXT, server TEXT, tool TEXT, outcome TEXT,
  data TEXT NOT NULL,
  recorded_at TEXT
);
CREATE INDEX IF NOT EXISTS audit_events_chain ON audit_events (chain, chain_seq);
CREATE INDEX IF NOT EXISTS audit_events_run ON audit_events (run_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events (at);
CREATE INDEX IF NOT EXISTS audit_events_usage ON audit_events (agent, type, at);
CREATE TABLE IF NOT EXISTS audit_heads (chain TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL, anchored_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS audit_anchors (id INTEGER PRIMARY KEY, at TEXT NOT NULL, prev TEXT NOT NULL, heads TEXT NOT NULL, hash TEXT NOT NULL);
`;

type Row = {
  seq: number;
  event_id: string;
  chain: string;
  chain_seq: number;
  prev_hash: string;
  hash: string;
  at: string;
  type: string;
  run_id: string | null;
  principal: string | null;
  on_behalf_of: string | null;
  agent: string | null;
  server: string | null;
  tool: string | null;
  outcome: string | null;
  data: string;
  /** NULL on records written before the store kept it. */
  recorded_at?: string | null;
};

export function fromRow(r: Row): AuditRecord {
  const rec: AuditRecord = {
    seq: Number(r.seq),
    eventId: r.event_id,
    chain: r.chain,
    chainSeq: Number(r.chain_seq),
    prevHash: r.prev_hash,
    hash: r.hash,
    at: r.at,
    type: r.type as AuditRecord['type'],
    data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data,
  };
  if (r.recorded_at !== null && r.recorded_at !== undefined) rec.recordedAt = r.recorded_at;
  for (const [k, col] of [
    ['runId', 'run_id'],
    ['principal', 'principal'],
    ['onBehalfOf', 'on_behalf_of'],
    ['agent', 'agent'],
    ['server', 'server'],
    ['tool', 'tool'],
    ['outcome', 'outcome'],
  ] as const) {
    if (r[col] !== null && r[col] !== undefined) rec[k] = r[col] as string;
  }
  return rec;
}

/** WHERE clause and parameters of a query, with `?` or `$n` placeholders. */
export function whereOf(q: AuditQuery, placeholder: (i: number) => string): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...v: unknown[]) => {
    let s = sql;
    for (const x of v) {
      params.push(x);
      s = s.replace('?', placeholder(params.length));
    }
    clauses.push(s);
  };
  if (q.runId) add('run_id = ?', q.runId);
  if (q.principal) add('(principal = ? OR on_behalf_of = ?)', q.principal, q.principal);
  if (q.tool) {
    const dot = q.tool.indexOf('.');
    if (dot > 0) add('server = ? AND tool = ?', q.tool.slice(0, dot), q.tool.slice(dot + 1));
    else add('tool = ?', q.tool);
  }
  if (q.outcome) add('outcome = ?', q.outcome);
  if (q.type) add('type = ?', q.type);
  if (q.types?.length) add(`type IN (${q.types.map(() => '?').join(', ')})`, ...q.types);
  if (q.from) add('at >= ?', q.from);
  if (q.to) add('at < ?', q.to);
  if (q.after !== undefined) add('seq > ?', q.after);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export class SqliteAuditStore implements AuditStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly appendTx: (events: AuditEventInput[]) => AuditRecord[];
  private readonly anchorTx: () => AuditAnchor | null;
  /** The file this handle writes to: every write checks the path still holds it (identity.ts). */
  private readonly identity: FileIdentity;

  constructor(
    readonly location: string,
    private readonly anchorFile?: string,
    opts: AuditStoreOptions = {},
  ) {
    mkdirSync(dirname(location), { recursive: true });
    this.db = openSqliteDatabase(location);
    this.identity = new FileIdentity(location, opts.log);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    migrate(this.db);
    const byId = this.db.prepare<[string], Row>('SELECT * FROM audit_events WHERE event_id = ?');
    const head = this.db.prepare<[string], { seq: number; hash: string }>('SELECT seq, hash FROM audit_heads WHERE chain = ?');
    const insert = this.db.prepare(
      `INSERT INTO audit_events (event_id, chain, chain_seq, prev_hash, hash, at, type, run_id, principal, on_behalf_of, agent, server, tool, outcome, data, recorded_at)
       VALUES (@eventId, @chain, @chainSeq, @prevHash, @hash, @at, @type, @runId, @principal, @onBehalfOf, @agent, @server, @tool, @outcome, @data, @recordedAt)`,
    );
    const setHead = this.db.prepare('INSERT INTO audit_heads (chain, seq, hash) VALUES (?, ?, ?) ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash');
    const appendTx = this.db.transaction((events: AuditEventInput[]) => {
      // Under the write lock: the file is still the one opened, else nothing is written (and the caller's work waits).
      this.identity.check();
      const recordedAt = new Date().toISOString();
      return events.map((e) => {
        const existing = byId.get(e.eventId);
        if (existing) return fromRow(existing);
        const r = chainRecord(e, head.get(e.chain), recordedAt);
        const nulls = { runId: null, principal: null, onBehalfOf: null, agent: null, server: null, tool: null, outcome: null, recordedAt: null };
        const info = insert.run({ ...nulls, ...r, data: JSON.stringify(r.data) });
        setHead.run(r.chain, r.chainSeq, r.hash);
        return { ...r, seq: Number(info.lastInsertRowid) };
      });
    });
    // IMMEDIATE: take the write lock before reading the chain head, so writers in other processes queue.
    this.appendTx = (events) => appendTx.immediate(events);
    const changed = this.db.prepare<[], { chain: string; seq: number; hash: string }>('SELECT chain, seq, hash FROM audit_heads WHERE seq > anchored_seq');
    const lastAnchor = this.db.prepare<[], { id: number; hash: string }>('SELECT id, hash FROM audit_anchors ORDER BY id DESC LIMIT 1');
    const insertAnchor = this.db.prepare('INSERT INTO audit_anchors (id, at, prev, heads, hash) VALUES (?, ?, ?, ?, ?)');
    const markAnchored = this.db.prepare('UPDATE audit_heads SET anchored_seq = ? WHERE chain = ?');
    const anchorTx = this.db.transaction(() => {
      this.identity.check();
      const heads = changed.all();
      if (!heads.length) return null;
      const last = lastAnchor.get();
      const body = { id: (last?.id ?? 0) + 1, at: new Date().toISOString(), prev: last?.hash ?? GENESIS, heads: Object.fromEntries(heads.map((h) => [h.chain, { seq: h.seq, hash: h.hash }])) };
      const a: AuditAnchor = { ...body, hash: anchorHash(body) };
      insertAnchor.run(a.id, a.at, a.prev, JSON.stringify(a.heads), a.hash);
      for (const h of heads) markAnchored.run(h.seq, h.chain);
      appendAnchor(this.anchorFile, a);
      return a;
    });
    this.anchorTx = () => anchorTx.immediate();
  }

  async append(events: AuditEventInput[]): Promise<AuditRecord[]> {
    return events.length ? this.appendTx(events) : [];
  }

  async query(q: AuditQuery): Promise<AuditRecord[]> {
    const { sql, params } = whereOf(q, () => '?');
    return this.db
      .prepare<unknown[], Row>(`SELECT * FROM audit_events ${sql} ORDER BY seq LIMIT ${Math.trunc(q.limit)}`)
      .all(...params)
      .map(fromRow);
  }

  async allRecords(): Promise<AuditRecord[]> {
    return this.db.prepare<[], Row>('SELECT * FROM audit_events ORDER BY chain, chain_seq, seq').all().map(fromRow);
  }

  async heads(): Promise<Record<string, { seq: number; hash: string }>> {
    const rows = this.db.prepare<[], { chain: string; seq: number; hash: string }>('SELECT chain, seq, hash FROM audit_heads').all();
    return Object.fromEntries(rows.map((h) => [h.chain, { seq: h.seq, hash: h.hash }]));
  }

  async lastSeq(): Promise<number> {
    return Number(this.db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM audit_events').get()?.seq ?? 0);
  }

  async anchor(): Promise<AuditAnchor | null> {
    return this.anchorTx();
  }

  async anchors(): Promise<AuditAnchor[]> {
    return this.db
      .prepare<[], { id: number; at: string; prev: string; heads: string; hash: string }>('SELECT * FROM audit_anchors ORDER BY id')
      .all()
      .map((a) => ({ ...a, heads: JSON.parse(a.heads) }));
  }

  async usage(agent: string, since: string): Promise<{ tokens: number; costUsd: number }> {
    const row = this.db
      .prepare<[string, string], { tokens: number | null; cost: number | null }>(
        `SELECT sum(json_extract(data, '$.inputTokens') + json_extract(data, '$.outputTokens')) AS tokens, sum(json_extract(data, '$.costUsd')) AS cost
         FROM audit_events WHERE type = 'model.routed' AND agent = ? AND at >= ?`,
      )
      .get(agent, since);
    return { tokens: row?.tokens ?? 0, costUsd: row?.cost ?? 0 };
  }

  /** Direct access for tests that tamper with the file. */
  get database(): Database.Database {
    return this.db;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Databases created before `recorded_at` existed get the column (NULL on their old records, which keep verifying). */
function migrate(db: Database.Database): void {
  const has = () =>
    db
      .prepare<[], { name: string }>('PRAGMA table_info(audit_events)')
      .all()
      .some((c) => c.name === 'recorded_at');
  if (has()) return;
  // IMMEDIATE: of several processes opening the file at once, one adds the column and the others see it.
  db.transaction(() => {
    if (!has()) db.exec('ALTER TABLE audit_events ADD COLUMN recorded_at TEXT');
  }).immediate();
}
