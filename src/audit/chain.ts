// Hash chaining and verification, independent of the store.
import { createHash } from 'node:crypto';
// Native SHA-256 here (about 4x faster than the core's portable one on small inputs): chaining is on every audit write.
import { canonicalJson } from '../core/canonical.js';
import type { AuditAnchor, AuditEventInput, AuditRecord } from './types.js';

export const GENESIS = '0'.repeat(64);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The hash of a record covers every stored field except the hash itself and the global insertion order.
 * `recordedAt` is covered when the record has one: records written before the store kept it have none, and
 * canonical JSON leaves out absent fields, so they hash (and verify) exactly as they were written. Removing a
 * new record's `recordedAt` changes what it hashes to, so that is caught like any other edit.
 */
export function recordHash(r: AuditEventInput & { chainSeq: number; prevHash: string; recordedAt?: string }): string {
  const { eventId, chain, type, at, runId, principal, onBehalfOf, agent, server, tool, outcome, data, chainSeq, prevHash, recordedAt } = r;
  return sha256(canonicalJson({ eventId, chain, type, at, runId, principal, onBehalfOf, agent, server, tool, outcome, data, chainSeq, prevHash, recordedAt }));
}

export function anchorHash(a: Omit<AuditAnchor, 'hash'>): string {
  return sha256(canonicalJson({ id: a.id, at: a.at, prev: a.prev, heads: a.heads }));
}

/** The record `e` becomes after `head`; `recordedAt` is the store's clock at the write (omitted: as `e` has it, if at all). */
export function chainRecord(e: AuditEventInput & { recordedAt?: string }, head: { seq: number; hash: string } | undefined, recordedAt = e.recordedAt): Omit<AuditRecord, 'seq'> {
  const chainSeq = (head?.seq ?? 0) + 1;
  const prevHash = head?.hash ?? GENESIS;
  const r = { ...e, recordedAt, chainSeq, prevHash };
  if (recordedAt === undefined) delete r.recordedAt;
  return { ...r, hash: recordHash(r) };
}

export type ProblemKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'anchor';

export interface AuditProblem {
  kind: ProblemKind;
  chain: string;
  chainSeq?: number;
  eventId?: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  records: number;
  chains: number;
  anchorsChecked: number;
  problems: AuditProblem[];
}

/**
 * Checks every chain link and every anchor. What each tampering looks like:
 * - modified: a record's content no longer hashes to its stored hash (or, if the hash was recomputed,
 *   the next record's link or an anchor no longer matches it);
 * - deleted: a gap in positions, or an anchored position that is gone;
 * - inserted: a duplicate position, or a record whose link matches no record of its chain;
 * - reordered: a record that links to a record other than the one before it.
 */
export function verifyRecords(records: AuditRecord[], heads: Record<string, { seq: number; hash: string }>, dbAnchors: AuditAnchor[], fileAnchors: AuditAnchor[] | null): VerifyReport {
  const problems: AuditProblem[] = [];
  const byChain = new Map<string, AuditRecord[]>();
  for (const r of records) {
    let list = byChain.get(r.chain);
    if (!list) byChain.set(r.chain, (list = []));
    list.push(r);
  }
  const at = (r: AuditRecord) => ({ chain: r.chain, chainSeq: r.chainSeq, eventId: r.eventId });
  for (const [chain, list] of byChain) {
    list.sort((a, b) => a.chainSeq - b.chainSeq || a.seq - b.seq);
    const hashes = new Map(list.map((r) => [r.hash, r]));
    let prev: AuditRecord | undefined;
    const flagged = new Set<AuditRecord>();
    for (const r of list) {
      if (recordHash(r) !== r.hash) {
        flagged.add(r);
        // A record moved to another position still hashes correctly at the position it was written at.
        const maxSeq = list.at(-1)!.chainSeq;
        let written: number | undefined;
        for (let k = 1; k <= maxSeq + 1 && written === undefined; k++) if (k !== r.chainSeq && recordHash({ ...r, chainSeq: k }) === r.hash) written = k;
        problems.push(
          written !== undefined
            ? { kind: 'reordered', ...at(r), message: `${chain} #${r.chainSeq} (${r.eventId}) was reordered: it was written as #${written}` }
            : { kind: 'modified', ...at(r), message: `${chain} #${r.chainSeq} (${r.eventId}) was modified: its content does not match its hash` },
        );
      }
      const expectedSeq = (prev?.chainSeq ?? 0) + 1;
      const expectedPrev = prev?.hash ?? GENESIS;
      if (r.chainSeq === prev?.chainSeq) {
        problems.push({ kind: 'inserted', ...at(r), message: `${chain} #${r.chainSeq} (${r.eventId}) was inserted: position ${r.chainSeq} is taken twice` });
        continue;
      }
      if (r.chainSeq > expectedSeq) {
        const gap = r.chainSeq - 1 === expectedSeq ? `#${expectedSeq}` : `#${expectedSeq}–#${r.chainSeq - 1}`;
        problems.push({ kind: 'deleted', chain, chainSeq: expectedSeq, message: `${chain} ${gap} deleted: the chain jumps from #${expectedSeq - 1} to #${r.chainSeq}` });
      } else if (r.prevHash !== expectedPrev && !flagged.has(r) && !(prev && flagged.has(prev))) {
        // (A link broken next to a record already reported is part of that report.)
        const linked = hashes.get(r.prevHash);
        if (linked && linked !== prev)
          problems.push({
            kind: 'reordered',
            ...at(r),
            message: `${chain} #${r.chainSeq} (${r.eventId}) was reordered: it follows #${linked.chainSeq} (${linked.eventId}), not #${prev?.chainSeq ?? 0}`,
          });
        else
          problems.push({
            kind: 'inserted',
            ...at(r),
            message: `${chain} #${r.chainSeq} (${r.eventId}) does not link to #${prev?.chainSeq ?? 0}: it was inserted, or the record before it was replaced`,
          });
      }
      prev = r;
    }
    const head = heads[chain];
    const last = list.at(-1)!;
    if (head && head.seq > last.chainSeq)
      problems.push({ kind: 'truncated', chain, chainSeq: last.chainSeq + 1, message: `${chain} ends at #${last.chainSeq} but its head is #${head.seq}: records were deleted from its end` });
    else if (head && head.seq === last.chainSeq && head.hash !== last.hash)
      problems.push({ kind: 'modified', ...at(last), message: `${chain} #${last.chainSeq} (${last.eventId}) does not match the chain head` });
  }
  for (const chain of Object.keys(heads)) {
    if (!byChain.has(chain) && heads[chain]!.seq > 0) problems.push({ kind: 'truncated', chain, message: `${chain} has no records but its head is #${heads[chain]!.seq}: all of them were deleted` });
  }

  // Anchors: their own chain, the copy outside the database, and every anchored head.
  let prevAnchor = GENESIS;
  for (const a of dbAnchors) {
    if (a.prev !== prevAnchor || anchorHash(a) !== a.hash) problems.push({ kind: 'anchor', chain: 'anchors', message: `anchor ${a.id} (${a.at}) was altered` });
    prevAnchor = a.hash;
  }
  if (fileAnchors) {
    const inDb = new Map(dbAnchors.map((a) => [a.id, a]));
    for (const f of fileAnchors) {
      const d = inDb.get(f.id);
      if (!d) problems.push({ kind: 'anchor', chain: 'anchors', message: `anchor ${f.id} (${f.at}) is in the anchor file but not in the database` });
      else if (d.hash !== f.hash) problems.push({ kind: 'anchor', chain: 'anchors', message: `anchor ${f.id} (${f.at}) differs between the database and the anchor file` });
    }
  }
  const anchors = fileAnchors && fileAnchors.length ? fileAnchors : dbAnchors;
  let anchorsChecked = 0;
  for (const a of anchors) {
    for (const [chain, h] of Object.entries(a.heads)) {
      anchorsChecked++;
      const r = byChain.get(chain)?.find((x) => x.chainSeq === h.seq);
      if (!r) problems.push({ kind: 'truncated', chain, chainSeq: h.seq, message: `${chain} #${h.seq}, anchored at ${a.at}, is missing: records were deleted` });
      else if (r.hash !== h.hash) problems.push({ kind: 'modified', ...at(r), message: `${chain} #${h.seq} (${r.eventId}) differs from its anchor of ${a.at}: the chain was rewritten` });
    }
  }
  const seen = new Set<string>();
  const unique = problems.filter((p) => (seen.has(p.message) ? false : (seen.add(p.message), true)));
  return { ok: unique.length === 0, records: records.length, chains: byChain.size, anchorsChecked, problems: unique };
}
