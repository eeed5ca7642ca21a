// What a reviewer is shown before pinning: every new or changed tool definition in full, with a line
// diff against the previous pin. Shared by `airlock registry approve|pin` and the REST approve.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { escapeText } from '../core/sanitize.js';
import { toolDefinition, toolHash, type LockedServer } from './lock.js';

export interface ReviewedTool {
  name: string;
  change: 'added' | 'changed';
  /** The full definition as it will be pinned (name, title, description, annotations, schemas, _meta). */
  definition: Record<string, unknown>;
  /** The pinned definition it replaces (changed tools only). */
  previous?: Record<string, unknown>;
  /** `-`/`+` lines against the previous pin (changed tools only). */
  diff: string[];
}

/** Lines of `a` missing from `b` and vice versa, over pretty-printed JSON. */
export function lineDiff(before: unknown, after: unknown): string[] {
  const a = JSON.stringify(before, null, 2).split('\n');
  const b = JSON.stringify(after, null, 2).split('\n');
  return [...a.filter((l) => !b.includes(l)).map((l) => `-   ${l}`), ...b.filter((l) => !a.includes(l)).map((l) => `+   ${l}`)];
}

/** The live tools that are new or differ from `pins` (all of them when nothing was pinned), sorted by name. */
export function toolsToReview(live: Tool[], pins: LockedServer | undefined): ReviewedTool[] {
  const out: ReviewedTool[] = [];
  for (const t of [...live].sort((a, b) => a.name.localeCompare(b.name))) {
    const pin = pins?.tools[t.name];
    if (pin && pin.sha256 === toolHash(t)) continue;
    const definition = toolDefinition(t);
    out.push(pin ? { name: t.name, change: 'changed', definition, previous: pin.definition, diff: lineDiff(pin.definition, definition) } : { name: t.name, change: 'added', definition, diff: [] });
  }
  return out;
}

/** The text a reviewer reads: each definition as pretty JSON, then its diff against the previous pin (invisible characters shown as \u{…}). */
export function describeReview(server: string, tools: ReviewedTool[], removed: string[] = []): string {
  if (!tools.length && !removed.length) return `${server}: no new or changed tool definitions since the previous pin`;
  const parts = [`${server}: ${tools.length} new or changed tool definition(s) to review${removed.length ? `; removed: ${removed.join(', ')}` : ''}`];
  for (const t of tools) {
    parts.push(`${t.change === 'added' ? '+' : '~'} ${t.name} (${t.change === 'added' ? 'new' : 'changed'})`, JSON.stringify(t.definition, null, 2));
    if (t.change === 'changed') parts.push(`diff against the previous pin:`, ...t.diff);
  }
  return escapeText(parts.join('\n'));
}
