// Anchors are mirrored to an append-only JSONL file outside the database: rewriting the database
// consistently (records, heads and anchor table) still disagrees with this copy.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditAnchor } from './types.js';

export function appendAnchor(file: string | undefined, a: AuditAnchor): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(a)}\n`);
}

/** The anchors in the file, or null when there is no file to compare with. */
export function readAnchors(file: string | undefined): AuditAnchor[] | null {
  if (!file || !existsSync(file)) return null;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as AuditAnchor;
      } catch {
        throw new Error(`${file}:${i + 1}: not a JSON anchor`);
      }
    });
}
