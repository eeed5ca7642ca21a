// Opening a PostgreSQL pool for one of Airlock's schemas, with its tables created (or migrated) under an
// advisory lock: concurrent CREATE … IF NOT EXISTS can collide, so one process sets the schema up at a time.
// Shared by the audit store and the small shared stores (revocations, idempotency keys, heartbeats).
import pg from 'pg';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openPgSchema<T>(url: string, schema: string, lock: string, setup: (c: pg.PoolClient) => Promise<T>): Promise<{ pool: pg.Pool; setup: T }> {
  if (!IDENTIFIER.test(schema)) throw new Error(`audit schema "${schema}" is not a plain lower-case identifier`);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle client's network error must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const c = await pool.connect();
    try {
      await c.query(`SELECT pg_advisory_lock(hashtext($1))`, [lock]);
      return { pool, setup: await setup(c) };
    } finally {
      await c.query(`SELECT pg_advisory_unlock_all()`).catch(() => {});
      c.release();
    }
  } catch (err) {
    await pool.end();
    throw err;
  }
}
