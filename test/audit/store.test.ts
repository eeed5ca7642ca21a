import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { verifyStore } from '../../src/cli/audit.js';
import type { AuditEventInput, AuditStore } from '../../src/audit/types.js';
import { STORES, type StoreUnderTest } from './helpers.js';

const ev = (chain: string, n: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  eventId: `${chain}/e${n}`,
  chain,
  type: 'tool.executed',
  at: new Date(Date.UTC(2026, 10, 26, 10, 0, n)).toISOString(),
  runId: chain.replace(/^run:/, ''),
  principal: 'alice',
  agent: 'refund-assistant',
  server: 'billing',
  tool: n % 2 ? 'issue_refund' : 'get_invoice',
  outcome: n % 3 ? 'success' : 'error',
  data: { step: n, args: { invoiceId: `INV-${2000 + n}`, amountCents: 100 * n } },
  ...extra,
});

for (const kind of STORES) {
  describe(`audit store: ${kind.kind}`, () => {
    const opened: AuditStore[] = [];
    const open = async () => {
      const s = await kind.open();
      opened.push(s.store);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });

    /** Two runs' chains of 6 records each, anchored once after the first 4 of run-a. */
    async function seeded(): Promise<StoreUnderTest> {
      const s = await open();
      for (let i = 1; i <= 4; i++) await s.store.append([ev('run:run-a', i)]);
      assert.ok(await s.store.anchor());
      for (let i = 5; i <= 6; i++) await s.store.append([ev('run:run-a', i)]);
      await s.store.append([1, 2, 3, 4, 5, 6].map((i) => ev('run:run-b', i)));
      const clean = await verifyStore(s.store, s.anchorFile);
      assert.deepEqual(clean.problems, []);
      assert.equal(clean.records, 12);
      return s;
    }

    test('appends chain per run, and the same event id is stored once however often it is written', async () => {
      const s = await open();
      const first = await s.store.append([ev('run:r1', 1), ev('run:r1', 2)]);
      const again = await s.store.append([ev('run:r1', 1), ev('run:r1', 2, { outcome: 'changed on retry' })]);
      assert.deepEqual(again, first);
      await s.store.append([ev('run:r2', 1)]);
      const all = await s.store.query({ limit: 100 });
      assert.equal(all.length, 3);
      const r1 = all.filter((r) => r.chain === 'run:r1');
      assert.deepEqual(
        r1.map((r) => r.chainSeq),
        [1, 2],
      );
      assert.equal(r1[1]!.prevHash, r1[0]!.hash);
      assert.equal(all.find((r) => r.chain === 'run:r2')!.chainSeq, 1);
    });

    test('concurrent writers of one chain never fork it', async () => {
      const s = await open();
      const other = await s.reopen();
      opened.push(other);
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? s.store : other).append([ev('run:busy', i + 1)])));
      const recs = (await s.store.allRecords()).filter((r) => r.chain === 'run:busy');
      assert.deepEqual(
        recs.map((r) => r.chainSeq),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      assert.ok((await verifyStore(s.store, s.anchorFile)).ok);
    });

    test('queries filter by run, principal, tool, outcome and time, and page by cursor', async () => {
      const s = await seeded();
      assert.equal((await s.store.query({ runId: 'run-b', limit: 100 })).length, 6);
      assert.equal((await s.store.query({ principal: 'alice', limit: 100 })).length, 12);
      assert.equal((await s.store.query({ principal: 'mallory', limit: 100 })).length, 0);
      assert.equal((await s.store.query({ tool: 'billing.issue_refund', limit: 100 })).length, 6);
      assert.equal((await s.store.query({ tool: 'get_invoice', runId: 'run-a', limit: 100 })).length, 3);
      assert.deepEqual(
        (await s.store.query({ outcome: 'error', runId: 'run-a', limit: 100 })).map((r) => r.chainSeq),
        [3, 6],
      );
      const window = await s.store.query({ from: '2026-11-26T10:00:02.000Z', to: '2026-11-26T10:00:04.000Z', runId: 'run-a', limit: 100 });
      assert.deepEqual(
        window.map((r) => r.chainSeq),
        [2, 3],
      );
      const page1 = await s.store.query({ limit: 5 });
      const page2 = await s.store.query({ limit: 5, after: page1.at(-1)!.seq });
      const page3 = await s.store.query({ limit: 5, after: page2.at(-1)!.seq });
      assert.equal(new Set([...page1, ...page2, ...page3].map((r) => r.eventId)).size, 12);
    });

    test('verify names a modified record', async () => {
      const s = await seeded();
      await s.sql(`UPDATE audit_events SET data = $1 WHERE event_id = $2`, JSON.stringify({ step: 2, args: { invoiceId: 'INV-9999', amountCents: 1 } }), 'run:run-b/e2');
      const r = await verifyStore(s.store, s.anchorFile);
      assert.equal(r.ok, false);
      assert.deepEqual(
        r.problems.map((p) => [p.kind, p.chain, p.chainSeq]),
        [['modified', 'run:run-b', 2]],
      );
    });

    test('verify names a deleted record', async () => {
      const s = await seeded();
      await s.sql(`DELETE FROM audit_events WHERE event_id = $1`, 'run:run-b/e3');
      const r = await verifyStore(s.store, s.anchorFile);
      assert.deepEqual(
        r.problems.map((p) => [p.kind, p.chain, p.chainSeq]),
        [['deleted', 'run:run-b', 3]],
      );
    });

    test('verify names reordered records', async () => {
      const s = await seeded();
      await s.sql(`UPDATE audit_events SET chain_seq = 100 WHERE event_id = $1`, 'run:run-b/e4');
      await s.sql(`UPDATE audit_events SET chain_seq = 4 WHERE event_id = $1`, 'run:run-b/e5');
      await s.sql(`UPDATE audit_events SET chain_seq = 5 WHERE event_id = $1`, 'run:run-b/e4');
      const r = await verifyStore(s.store, s.anchorFile);
      assert.equal(r.ok, false);
      assert.ok(
        r.problems.every((p) => p.kind === 'reordered' && p.chain === 'run:run-b'),
        JSON.stringify(r.problems),
      );
      assert.deepEqual(r.problems.map((p) => p.chainSeq).sort(), [4, 5]);
    });

    test('verify names an inserted record, even one given a valid hash', async () => {
      const s = await seeded();
      // A forger shifts #4.. up by one and slips in a record hashed like a real one at #4.
      const { chainRecord } = await import('../../src/audit/chain.js');
      const recs = (await s.store.allRecords()).filter((r) => r.chain === 'run:run-b');
      for (const r of [...recs].reverse().filter((x) => x.chainSeq >= 4)) await s.sql(`UPDATE audit_events SET chain_seq = $1 WHERE event_id = $2`, r.chainSeq + 1, r.eventId);
      const forged = chainRecord(ev('run:run-b', 99, { eventId: 'forged', outcome: 'success' }), { seq: 3, hash: recs[2]!.hash });
      await s.sql(
        `INSERT INTO audit_events (event_id, chain, chain_seq, prev_hash, hash, at, type, run_id, principal, agent, server, tool, outcome, data) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
        forged.eventId,
        forged.chain,
        forged.chainSeq,
        forged.prevHash,
        forged.hash,
        forged.at,
        forged.type,
        forged.runId,
        forged.principal,
        forged.agent,
        forged.server,
        forged.tool,
        forged.outcome,
        JSON.stringify(forged.data),
      );
      const r = await verifyStore(s.store, s.anchorFile);
      assert.equal(r.ok, false);
      const kinds = r.problems.map((p) => p.kind);
      assert.ok(kinds.includes('reordered') || kinds.includes('inserted'), JSON.stringify(r.problems));
      assert.ok(
        r.problems.some((p) => p.chain === 'run:run-b' && (p.chainSeq === 5 || p.eventId === 'forged')),
        JSON.stringify(r.problems),
      );
    });

    test('a whole-chain rewrite with recomputed hashes is caught by the anchors', async () => {
      const s = await seeded();
      const { chainRecord } = await import('../../src/audit/chain.js');
      const recs = (await s.store.allRecords()).filter((r) => r.chain === 'run:run-a');
      let head: { seq: number; hash: string } | undefined;
      for (const r of recs) {
        const { seq: _s, chainSeq: _c, prevHash: _p, hash: _h, ...e } = r;
        const data = r.chainSeq === 2 ? { ...e.data, args: { invoiceId: 'INV-2002', amountCents: 1 } } : e.data;
        const rewritten = chainRecord({ ...e, data }, head);
        await s.sql(`UPDATE audit_events SET data = $1, prev_hash = $2, hash = $3 WHERE event_id = $4`, JSON.stringify(data), rewritten.prevHash, rewritten.hash, r.eventId);
        head = { seq: rewritten.chainSeq, hash: rewritten.hash };
      }
      await s.sql(`UPDATE audit_heads SET hash = $1 WHERE chain = $2`, head!.hash, 'run:run-a');
      const r = await verifyStore(s.store, s.anchorFile);
      assert.deepEqual(
        r.problems.map((p) => [p.kind, p.chain, p.chainSeq]),
        [['modified', 'run:run-a', 4]],
      );
      assert.match(r.problems[0]!.message, /anchor/);
    });

    test('records deleted from the end of a chain are caught by its head and anchors', async () => {
      const s = await seeded();
      await s.sql(`DELETE FROM audit_events WHERE event_id = $1`, 'run:run-a/e6');
      const r = await verifyStore(s.store, s.anchorFile);
      assert.deepEqual(
        r.problems.map((p) => [p.kind, p.chain]),
        [['truncated', 'run:run-a']],
      );
    });
  });
}
