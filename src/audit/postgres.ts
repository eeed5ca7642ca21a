// The audit store on PostgreSQL: same records and chains as SQLite; per-chain row locks serialize appends.
import pg from 'pg';
import { appendAnchor } from './anchorFile.js';
import { anchorHash, chainRecord, GENESIS } from './chain.js';
import { fromRow, whereOf } from './sqlite.js';
import type { AuditAnchor, AuditEventInput, AuditQuery, AuditRecord, AuditStore } from './types.js';

const schemaSql = (s: string) => `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.audit_events (
  seq BIGSERIAL PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  chain TEXT NOT NULL,
  chain_seq BIGINT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  run_id TEXT, principal TEXT, on_behalf_of TEXT, agent TEXT, server TEXT, tool TEXT, outcome TEXT,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_chain ON ${s}.audit_events (chain, chain_seq);
CREATE INDEX IF NOT EXISTS audit_events_run ON ${s}.audit_events (run_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_at ON ${s}.audit_events (at);
CREATE INDEX IF NOT EXISTS audit_events_usage ON ${s}.audit_events (agent, type, at);
CREATE TABLE IF NOT EXISTS ${s}.audit_heads (chain TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL, anchored_seq BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS ${s}.audit_anchors (id BIGINT PRIMARY KEY, at TEXT NOT NULL, prev TEXT NOT NULL, heads TEXT NOT NULL, hash TEXT NOT NULL);
`;

/** The URL with its password removed, for messages and the readiness report. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export class PostgresAuditStore implements AuditStore {
  readonly kind = 'postgres' as const;
  readonly location: string;

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
    private readonly schema: string,
    private readonly anchorFile?: string,
  ) {
    this.location = `${redactUrl(url)} (schema ${schema})`;
  }

  static async open(url: string, schema: string, anchorFile?: string): Promise<PostgresAuditStore> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`audit schema "${schema}" is not a plain lower-case identifier`);
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // An idle client's network error must not crash the process; the next query reports it.
    pool.on('error', () => {});
    try {
      // Concurrent CREATE … IF NOT EXISTS can still collide: one process creates the schema at a time.
      const c = await pool.connect();
      try {
        await c.query(`SELECT pg_advisory_lock(hashtext('airlock-audit-schema'))`);
        await c.query(schemaSql(schema));
      } finally {
        await c.query(`SELECT pg_advisory_unlock_all()`).catch(() => {});
        c.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresAuditStore(pool, url, schema, anchorFile);
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async append(events: AuditEventInput[]): Promise<AuditRecord[]> {
    if (!events.length) return [];
    const s = this.schema;
    return this.tx(async (c) => {
      const out: AuditRecord[] = [];
      for (const e of events) {
        // Lock the chain's head row (created on first use); then the id check and the append are serialized per chain.
        await c.query(`INSERT INTO ${s}.audit_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING`, [e.chain, GENESIS]);
        const head = (await c.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${s}.audit_heads WHERE chain = $1 FOR UPDATE`, [e.chain])).rows[0]!;
        const existing = (await c.query(`SELECT * FROM ${s}.audit_events WHERE event_id = $1`, [e.eventId])).rows[0];
        if (existing) {
          out.push(fromRow(existing));
          continue;
        }
        const r = chainRecord(e, Number(head.seq) > 0 ? { seq: Number(head.seq), hash: head.hash } : undefined);
        const { rows } = await c.query<{ seq: string }>(
          `INSERT INTO ${s}.audit_events (event_id, chain, chain_seq, prev_hash, hash, at, type, run_id, principal, on_behalf_of, agent, server, tool, outcome, data)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING seq`,
          [
            r.eventId,
            r.chain,
            r.chainSeq,
            r.prevHash,
            r.hash,
            r.at,
            r.type,
            r.runId ?? null,
            r.principal ?? null,
            r.onBehalfOf ?? null,
            r.agent ?? null,
            r.server ?? null,
            r.tool ?? null,
            r.outcome ?? null,
            JSON.stringify(r.data),
          ],
        );
        await c.query(`UPDATE ${s}.audit_heads SET seq = $2, hash = $3 WHERE chain = $1`, [r.chain, r.chainSeq, r.hash]);
        out.push({ ...r, seq: Number(rows[0]!.seq) });
      }
      return out;
    });
  }

  async query(q: AuditQuery): Promise<AuditRecord[]> {
    const { sql, params } = whereOf(q, (i) => `$${i}`);
    const { rows } = await this.pool.query(`SELECT * FROM ${this.schema}.audit_events ${sql} ORDER BY seq LIMIT ${Math.trunc(q.limit)}`, params);
    return rows.map(fromRow);
  }

  async allRecords(): Promise<AuditRecord[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.schema}.audit_events ORDER BY chain, chain_seq, seq`);
    return rows.map(fromRow);
  }

  async heads(): Promise<Record<string, { seq: number; hash: string }>> {
    const { rows } = await this.pool.query<{ chain: string; seq: string; hash: string }>(`SELECT chain, seq, hash FROM ${this.schema}.audit_heads WHERE seq > 0`);
    return Object.fromEntries(rows.map((h) => [h.chain, { seq: Number(h.seq), hash: h.hash }]));
  }

  async anchor(): Promise<AuditAnchor | null> {
    const s = this.schema;
    return this.tx(async (c) => {
      await c.query(`LOCK TABLE ${s}.audit_anchors IN EXCLUSIVE MODE`);
      const heads = (await c.query<{ chain: string; seq: string; hash: string }>(`SELECT chain, seq, hash FROM ${s}.audit_heads WHERE seq > anchored_seq FOR UPDATE`)).rows;
      if (!heads.length) return null;
      const last = (await c.query<{ id: string; hash: string }>(`SELECT id, hash FROM ${s}.audit_anchors ORDER BY id DESC LIMIT 1`)).rows[0];
      const body = {
        id: Number(last?.id ?? 0) + 1,
        at: new Date().toISOString(),
        prev: last?.hash ?? GENESIS,
        heads: Object.fromEntries(heads.map((h) => [h.chain, { seq: Number(h.seq), hash: h.hash }])),
      };
      const a: AuditAnchor = { ...body, hash: anchorHash(body) };
      await c.query(`INSERT INTO ${s}.audit_anchors (id, at, prev, heads, hash) VALUES ($1, $2, $3, $4, $5)`, [a.id, a.at, a.prev, JSON.stringify(a.heads), a.hash]);
      for (const h of heads) await c.query(`UPDATE ${s}.audit_heads SET anchored_seq = seq WHERE chain = $1`, [h.chain]);
      appendAnchor(this.anchorFile, a);
      return a;
    });
  }

  async anchors(): Promise<AuditAnchor[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.schema}.audit_anchors ORDER BY id`);
    return rows.map((a) => ({ id: Number(a.id), at: a.at, prev: a.prev, heads: JSON.parse(a.heads), hash: a.hash }));
  }

  async usage(agent: string, since: string): Promise<{ tokens: number; costUsd: number }> {
    const { rows } = await this.pool.query<{ tokens: string | null; cost: string | null }>(
      `SELECT sum(coalesce((data::jsonb->>'inputTokens')::numeric, 0) + coalesce((data::jsonb->>'outputTokens')::numeric, 0)) AS tokens,
              sum(coalesce((data::jsonb->>'costUsd')::numeric, 0)) AS cost
       FROM ${this.schema}.audit_events WHERE type = 'model.routed' AND agent = $1 AND at >= $2`,
      [agent, since],
    );
    return { tokens: Number(rows[0]?.tokens ?? 0), costUsd: Number(rows[0]?.cost ?? 0) };
  }

  /** Direct access for tests that tamper with the tables. */
  get client(): pg.Pool {
    return this.pool;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
