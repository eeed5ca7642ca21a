// The shared stores on both databases, as two API replicas see them: revocations, Idempotency-Key bindings
// and worker heartbeats written through one store instance are seen through another.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { after, describe, test } from 'node:test';
import { IdempotencyStore } from '../../src/api/idempotency.js';
import { RevocationStore } from '../../src/identity/revocations.js';
import { HeartbeatReader, startWorkerHeartbeat } from '../../src/worker/heartbeat.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

type Cfg = ConstructorParameters<typeof HeartbeatReader>[0];

function configs(): Array<{ name: string; config: Cfg; cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-sec-'));
  const schema = `sec_${randomBytes(5).toString('hex')}`;
  const base = (audit: Partial<Cfg['audit']>): Cfg => ({ dataDir, audit: { file: 'audit.db', schema, ...audit }, temporal: { namespace: 'default', taskQueue: `tq-${schema}` } }) as Cfg;
  return [
    { name: 'SQLite', config: base({}), cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) },
    {
      name: 'PostgreSQL',
      config: base({ databaseUrl: PG_URL }),
      cleanup: async () => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      },
    },
  ];
}

for (const { name, config, cleanup } of configs()) {
  describe(`shared stores on ${name}`, () => {
    const closers: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of closers) await c();
      await cleanup();
    });
    const open = <T extends { close(): Promise<void> }>(store: T): T => (closers.push(() => store.close()), store);

    test('a revocation made on one replica is refused on another', async () => {
      const [a, b] = [open(new RevocationStore(config)), open(new RevocationStore(config))];
      assert.equal(await b.refusal({ jti: 'j1', subject: 's1', issuedAt: 100 }), undefined);
      await a.revoke({ kind: 'jti', value: 'j1', reason: 'stolen', revokedBy: 'adam' });
      assert.match((await b.refusal({ jti: 'j1', subject: 's1', issuedAt: 100 }))!, /stolen/);
      await a.revoke({ kind: 'subject', value: 's2', reason: 'left', revokedBy: 'adam' }, 50_000);
      assert.match((await b.refusal({ jti: 'other', subject: 's2', issuedAt: 50 }))!, /left/);
      assert.match((await b.refusal({ subject: 's2' }))!, /left/, 'no iat: refused');
      assert.equal(await b.refusal({ jti: 'other', subject: 's2', issuedAt: 51 }), undefined);
      assert.deepEqual((await b.list()).map((r) => `${r.kind}:${r.value}`).sort(), ['jti:j1', 'subject:s2']);
    });

    test('an Idempotency-Key binding holds across replicas', async () => {
      const [a, b] = [open(new IdempotencyStore(config)), open(new IdempotencyStore(config))];
      assert.deepEqual(await a.claim('run-1', 'alice', 'h1'), { requestHash: 'h1', started: false });
      assert.deepEqual(await b.claim('run-1', 'alice', 'h2'), { requestHash: 'h1', started: false });
      await a.started('run-1');
      assert.deepEqual(await b.claim('run-1', 'alice', 'h1'), { requestHash: 'h1', started: true });
      assert.deepEqual(await b.claim('run-2', 'alice', 'h2'), { requestHash: 'h2', started: false });
    });

    test('a heartbeat is live while beating and stale after it stops', async () => {
      const reader = open(new HeartbeatReader(config));
      assert.equal(await reader.liveWorker(), undefined);
      let state = 'RUNNING';
      const hb = startWorkerHeartbeat({ config, worker: { getState: () => state }, intervalMs: 100 });
      const deadline = Date.now() + 10_000;
      while ((await reader.liveWorker()) !== true && Date.now() < deadline) await sleep(50);
      assert.equal(await reader.liveWorker(), true);
      state = 'STOPPED';
      await sleep(300);
      await hb.stop();
      assert.equal(await reader.liveWorker(Date.now() + 60_000), false);
    });
  });
}
