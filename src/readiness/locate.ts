// Config key → link: the file and line of a key path in a YAML (or JSON) file, so each readiness answer
// points at the line that makes it true. The `yaml` library parses and counts lines; this only walks
// the path back to the nearest key that is present when the key itself is left to its default.
import { readFileSync } from 'node:fs';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { ReadinessLink } from './types.js';

export type KeyPath = readonly (string | number)[];

export class Locator {
  private readonly doc?: Document;
  private readonly lines = new LineCounter();

  constructor(readonly file: string) {
    try {
      this.doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: this.lines, prettyErrors: false });
    } catch {
      this.doc = undefined; // a missing or unreadable file: links without lines
    }
  }

  /** `{ file, line, path }` for the key at `path`; `defaulted` when the file leaves it out. */
  link(path: KeyPath): ReadinessLink {
    const { line, exact } = this.lineOf(path);
    return { file: this.file, ...(line !== undefined ? { line } : {}), path: path.join('.'), ...(this.doc && !exact ? { defaulted: true as const } : {}) };
  }

  /** Whether the file sets the key at `path` itself (rather than leaving it to its default). */
  has(path: KeyPath): boolean {
    return this.lineOf(path).exact;
  }

  /** Line of the key (or sequence item) at `path`, else of its nearest present ancestor. */
  private lineOf(path: KeyPath): { line?: number; exact: boolean } {
    if (!this.doc) return { exact: false };
    for (let n = path.length; n > 0; n--) {
      const parent = n === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, n - 1), true);
      const key = path[n - 1];
      let at: number | undefined;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
        at = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
      } else if (isSeq(parent) && typeof key === 'number') {
        const item: unknown = parent.items[key];
        at = isNode(item) ? item.range?.[0] : undefined;
      }
      if (at !== undefined) return { line: this.lines.linePos(at).line, exact: n === path.length };
    }
    return { exact: false };
  }
}
