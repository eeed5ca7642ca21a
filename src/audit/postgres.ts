// The audit store on PostgreSQL: same records and chains as SQLite; per-chain row locks serialize appends.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { openPgSchema } from '../store/pgSetup.js';
import { appendAnchor } from './anchorFile.js';
import { anchorHash, chainRecord, GENESIS } from './chain.js';
import { IdentityAlarm, type AuditStoreOptions } from './identity.js';
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
  data TEXT NOT NULL,
  recorded_at TEXT
);
CREATE INDEX IF NOT EXISTS audit_events_chain ON ${s}.audit_events (chain, chain_seq);
CREATE INDEX IF NOT EXISTS audit_events_run ON ${s}.audit_events (run_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_at ON ${s}.audit_events (at);
CREATE INDEX IF NOT EXISTS audit_events_usage ON ${s}.audit_events (agent, type, at);
CREATE TABLE IF NOT EXISTS ${s}.audit_heads (chain TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL, anchored_seq BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS ${s}.audit_anchors (id BIGINT PRIMARY KEY, at TEXT NOT NULL, prev TEXT NOT NULL, heads TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.audit_store (singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton), store_id TEXT NOT NULL, created_at TEXT NOT NULL);
`;

/**
 * What the store is, read with BEGIN in one round trip before every write: the random id written when the
 * schema was created, and the oids of the records' and heads' tables (a table dropped and recreated gets a
 * new one; a recreated anchor table is caught by the anchor file). Also the database's clock in epoch
 * seconds: the batch's `recordedAt`, one clock for every worker.
 */
const identitySql = (s: string) =>
  `SELECT store_id, to_regclass('${s}.audit_events')::oid::text || '/' || to_regclass('${s}.audit_heads')::oid::text AS tables, extract(epoch FROM clock_timestamp())::text AS now FROM ${s}.audit_store`;
type Identity = { store_id: string; tables: string | null; now: string };

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
  private readonly alarm: IdentityAlarm;

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
    private readonly schema: string,
    /** The identity read at open; every write checks it is unchanged. */
    private readonly identity: Omit<Identity, 'now'>,
    private readonly anchorFile?: string,
    opts: AuditStoreOptions = {},
  ) {
    this.location = `${redactUrl(url)} (schema ${schema})`;
    this.alarm = new IdentityAlarm(opts.log);
  }

  static async open(url: string, schema: string, anchorFile?: string, opts: AuditStoreOptions = {}): Promise<PostgresAuditStore> {
    const { pool, setup: identity } = await openPgSchema(url, schema, 'airlock-audit-schema', async (c) => {
      await c.query(schemaSql(schema));
      await migrate(c, schema);
      await c.query(`INSERT INTO ${schema}.audit_store (singleton, store_id, created_at) VALUES (TRUE, $1, $2) ON CONFLICT (singleton) DO NOTHING`, [randomUUID(), new Date().toISOString()]);
      return (await c.query<Identity>(identitySql(schema))).rows[0]!;
    });
    return new PostgresAuditStore(pool, url, schema, { store_id: identity.store_id, tables: identity.tables }, anchorFile, opts);
  }

  /** A write transaction on the store as opened (else AuditStoreReplaced); `now` is the database's clock. */
  private async tx<T>(fn: (c: pg.PoolClient, now: string) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      const now = await this.begin(c);
      const out = await fn(c, now);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** BEGIN, and the identity check in the same round trip. */
  private async begin(c: pg.PoolClient): Promise<string> {
    const where = { schema: this.schema, location: this.location };
    let found: Identity | undefined;
    try {
      // Two statements, no parameters: sent as one simple query, so the check costs no extra round trip.
      const res = (await c.query(`BEGIN; ${identitySql(this.schema)}`)) as unknown as pg.QueryResult<Identity>[];
      found = res[1]!.rows[0];
    } catch (err) {
      const code = (err as { code?: string }).code;
      // undefined_table, invalid_schema_name: the schema or the identity table was dropped.
      if (code === '42P01' || code === '3F000') this.alarm.fail(`the audit schema ${this.schema} was dropped while this process was using it; writes are refused`, where);
      throw err;
    }
    if (!found) this.alarm.fail(`the audit schema ${this.schema} lost its identity row (audit_store): writes are refused`, where);
    if (found.tables === null) this.alarm.fail(`the audit tables of schema ${this.schema} were dropped while this process was using them; writes are refused`, where);
    if (found.store_id !== this.identity.store_id || found.tables !== this.identity.tables)
      this.alarm.fail(
        `the audit schema ${this.schema} was dropped and recreated (or its tables were) while this process was using it; writes are refused so nothing is recorded in a new, empty trail`,
        where,
      );
    this.alarm.clear();
    return new Date(Math.round(Number(found.now) * 1000)).toISOString();
  }

  async append(events: AuditEventInput[]): Promise<AuditRecord[]> {
    if (!events.length) return [];
    const s = this.schema;
    return this.tx(async (c, recordedAt) => {
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
        const r = chainRecord(e, Number(head.seq) > 0 ? { seq: Number(head.seq), hash: head.hash } : undefined, recordedAt);
        const { rows } = await c.query<{ seq: string }>(
          `INSERT INTO ${s}.audit_events (event_id, chain, chain_seq, prev_hash, hash, at, type, run_id, principal, on_behalf_of, agent, server, tool, outcome, data, recorded_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING seq`,
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
            recordedAt,
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

  async lastSeq(): Promise<number> {
    const { rows } = await this.pool.query<{ seq: string | null }>(`SELECT max(seq)::text AS seq FROM ${this.schema}.audit_events`);
    return Number(rows[0]?.seq ?? 0);
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

/** Schemas created before `recorded_at` existed get the column (NULL on their old records, which keep verifying). */
async function migrate(c: pg.PoolClient, s: string): Promise<void> {
  const { rows } = await c.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'audit_events' AND column_name = 'recorded_at'`, [s]);
  if (!rows.length) await c.query(`ALTER TABLE ${s}.audit_events ADD COLUMN IF NOT EXISTS recorded_at TEXT`);
}
