// What the audit trail stores of args and results: configured fields and anything secret-like masked.
// The raw value is never stored; a digest of the raw call is (the approval digest), so a record can
// still be matched to the call it describes.
import type { Json } from '../core/types.js';

export const REDACTED = '[REDACTED]';

/** Field names whose values are always masked. */
const SECRET_KEY = /pass(word|phrase)?|secret|token|api[-_]?key|authori[sz]ation|credential|private[-_]?key|cookie|session|^cvc$|^cvv2?$|^pin$/i;

/** Well-known credential shapes: bearer tokens, JWTs, provider keys. */
const SECRET_PATTERNS: RegExp[] = [
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g,
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /\b(sk|pk|rk)[-_](live|test|proj|ant)?[-_]?[A-Za-z0-9_-]{16,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g,
  /\bxox[abpr]-[A-Za-z0-9-]{10,}/g,
];

/** 13–19 digits, optionally grouped by spaces or dashes. */
const CARD_LIKE = /\b\d(?:[ -]?\d){12,18}\b/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export interface RedactionRules {
  /** `server.tool`, `tool` or `*` → dotted field paths (`*` matches one segment) whose values are masked. */
  fields: Record<string, string[]>;
  /** Known secret values (resolved server credentials): masked wherever they appear. */
  secrets?: string[];
}

export class Redactor {
  private readonly secrets: string[];

  constructor(private readonly rules: RedactionRules) {
    // Longest first, so a secret containing another is masked whole; very short values would mask noise.
    this.secrets = [...new Set(rules.secrets ?? [])].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
  }

  /** Masked copy of a tool's args or result. */
  redact(value: Json, server?: string, tool?: string): Json {
    const paths = [...(this.rules.fields['*'] ?? []), ...(tool ? (this.rules.fields[tool] ?? []) : []), ...(server && tool ? (this.rules.fields[`${server}.${tool}`] ?? []) : [])].map((p) =>
      p.split('.'),
    );
    return this.walk(value, [], paths);
  }

  /** Masked copy of free text (reasons, comments, error messages). */
  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    for (const re of SECRET_PATTERNS) out = out.replace(re, REDACTED);
    return out.replace(CARD_LIKE, (m) => (luhn(m.replace(/[ -]/g, '')) ? '[REDACTED card]' : m));
  }

  private walk(v: Json, path: string[], paths: string[][]): Json {
    if (paths.some((p) => p.length === path.length && p.every((seg, i) => seg === '*' || seg === path[i]))) return REDACTED;
    if (typeof v === 'string') return this.text(v);
    if (typeof v === 'number' && Number.isInteger(v) && String(v).length >= 13) return this.text(String(v)) === String(v) ? v : '[REDACTED card]';
    if (Array.isArray(v)) return v.map((x, i) => this.walk(x, [...path, String(i)], paths));
    if (v && typeof v === 'object') {
      const out: { [k: string]: Json } = {};
      for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) && x !== null && typeof x !== 'object' ? REDACTED : this.walk(x, [...path, k], paths);
      return out;
    }
    return v;
  }
}
