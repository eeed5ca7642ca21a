// Shared by the scanner (src/registry/scanner.ts) and the review-grade checks (src/registry/reviewChecks.ts):
// the shapes of tool definitions and findings, excerpts, and walks over a definition's strings and input
// properties. Pure functions, no I/O.
import { escapeText } from '../core/sanitize.js';

export interface ToolDef {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

export type FindingKind =
  | 'hidden-instruction'
  | 'secret-request'
  | 'exfiltration-parameter'
  | 'cross-server-reference'
  | 'url-not-allowed'
  | 'invisible-unicode'
  | 'deceptive-unicode'
  // review-grade checks (src/registry/reviewChecks.ts) and the model-assisted review (src/registry/reviewModel.ts)
  | 'unrelated-parameter'
  | 'free-text-parameter'
  | 'tool-steering'
  | 'non-english-text'
  | 'encoded-text'
  | 'model-review';

export interface Finding {
  tool: string;
  /** Where in the definition, e.g. 'description', 'inputSchema.properties.note.description', 'inputSchema.properties.x.enum[2]', 'name'. */
  where: string;
  kind: FindingKind;
  /** Short, with invisible and (for names) non-ASCII characters shown as \u{...} escapes. */
  excerpt: string;
  /** How to fix it (filled in by scanTools from the kind when a check sets none). */
  hint?: string;
}

export interface ScanOptions {
  /** Id of the server whose tools are scanned. */
  server: string;
  /** Ids of the other registered servers. */
  otherServers: string[];
  /** Namespaced names ('server.tool') of the other servers' tools. */
  otherTools: string[];
  /** Allowed hostnames; an entry also allows its subdomains ('example.com' allows 'docs.example.com'). */
  urlAllowlist: string[];
  /** Run the review-grade checks too (default true); false: the pattern checks only. */
  reviewChecks?: boolean;
}

export const MAX_EXCERPT = 120;

export function clip(s: string, max = MAX_EXCERPT): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** About `radius` characters either side of [start, end), whitespace collapsed, invisible characters escaped. */
export function excerptAround(text: string, start: number, end: number, radius = 40): string {
  const from = Math.max(0, start - radius);
  const to = Math.min(text.length, end + radius);
  const body = text.slice(from, to).replace(/\s+/g, ' ').trim();
  return clip(`${from > 0 ? '…' : ''}${escapeText(body)}${to < text.length ? '…' : ''}`, MAX_EXCERPT + 2);
}

export interface Leaf {
  where: string;
  text: string;
  /** The key under which the string sits ('description', 'default', '$schema', …), or 'key' for a property name. */
  role: string;
  isKey: boolean;
}

/** Formats a path segment: identifiers with dots, anything else in brackets. */
export function seg(base: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? (base ? `${base}.${key}` : key) : `${base}[${JSON.stringify(escapeText(key, true))}]`;
}

/** Every string in a JSON value: keys and values, with their paths. */
export function collectStrings(v: unknown, where: string, role: string, out: Leaf[], depth = 0): void {
  if (depth > 64) return;
  if (typeof v === 'string') {
    out.push({ where, text: v, role, isKey: false });
  } else if (Array.isArray(v)) {
    v.forEach((item, i) => collectStrings(item, `${where}[${i}]`, role, out, depth + 1));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      const path = seg(where, k);
      out.push({ where: path, text: k, role: 'key', isKey: true });
      collectStrings(val, path, k, out, depth + 1);
    }
  }
}

/** Input properties (also nested: items, anyOf, …), each with its path and schema. */
export function inputProperties(schema: unknown, where: string, out: Array<{ name: string; where: string; schema: Record<string, unknown> }>, depth = 0): void {
  if (depth > 32 || schema === null || typeof schema !== 'object') return;
  if (Array.isArray(schema)) {
    schema.forEach((s, i) => inputProperties(s, `${where}[${i}]`, out, depth + 1));
    return;
  }
  const s = schema as Record<string, unknown>;
  for (const [k, val] of Object.entries(s)) {
    if ((k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions') && val && typeof val === 'object' && !Array.isArray(val)) {
      for (const [name, sub] of Object.entries(val as Record<string, unknown>)) {
        const path = seg(seg(where, k), name);
        if (k === 'properties' && sub && typeof sub === 'object' && !Array.isArray(sub)) out.push({ name, where: path, schema: sub as Record<string, unknown> });
        inputProperties(sub, path, out, depth + 1);
      }
    } else if (val && typeof val === 'object') {
      inputProperties(val, seg(where, k), out, depth + 1);
    }
  }
}
