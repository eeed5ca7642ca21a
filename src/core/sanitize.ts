// Sanitizing: invisible and deceptive code points never reach a model, history or a reviewer's screen.
// Used on tool definitions (scanner, model tool lists) and on every tool result. Pure functions.

/**
 * Code points that render as nothing (or reorder what is rendered) and so can hide text from a
 * human reviewer while the model still reads it:
 * - Unicode tag characters U+E0000–U+E007F (can carry a whole ASCII text, "ASCII smuggling");
 * - bidi controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C;
 * - zero-width U+200B–U+200D, word joiner and invisible operators U+2060–U+2064, BOM U+FEFF;
 * - soft hyphen U+00AD, Mongolian vowel separator U+180E, combining grapheme joiner U+034F,
 *   Hangul fillers U+115F, U+1160, U+3164, U+FFA0, deprecated format controls U+206A–U+206F,
 *   interlinear annotation U+FFF9–U+FFFB;
 * - variation selectors U+FE00–U+FE0F and U+E0100–U+E01EF (they can encode arbitrary bytes
 *   after any character; in tool text their only legitimate use, emoji presentation, is cosmetic,
 *   so sanitizing drops them all, but scanning only reports those not following an emoji);
 * - C0/C1 control characters other than tab, line feed and carriage return (e.g. ANSI escapes).
 */
const INVISIBLE_SOURCE =
  '[\\u{E0000}-\\u{E007F}\\u202A-\\u202E\\u2066-\\u2069\\u200E\\u200F\\u061C\\u200B-\\u200D\\u2060-\\u2064\\uFEFF' +
  '\\u00AD\\u180E\\u034F\\u115F\\u1160\\u3164\\uFFA0\\u206A-\\u206F\\uFFF9-\\uFFFB' +
  '\\uFE00-\\uFE0F\\u{E0100}-\\u{E01EF}\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]';
// The class lists combining marks (U+034F, variation selectors) on purpose: each is matched on its own, to be removed.
// eslint-disable-next-line no-misleading-character-class
export const INVISIBLE_G = new RegExp(INVISIBLE_SOURCE, 'gu');
// eslint-disable-next-line no-misleading-character-class
export const INVISIBLE_TEST = new RegExp(INVISIBLE_SOURCE, 'u');

export const isVariationSelector = (cp: number) => (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef);
export const EMOJI_BASE = /[\p{Extended_Pictographic}\p{Emoji_Presentation}\u20E3]/u;
export const EMOJI_SEQ_PREV = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F]$/u;
export const EMOJI_SEQ_NEXT = /^\p{Extended_Pictographic}/u;

/** Removes invisible/deceptive code points (see INVISIBLE_SOURCE) and applies NFKC normalization. */
export function sanitizeText(s: string): string {
  // Strip before NFKC (so hidden characters cannot combine with neighbours) and after (NFKC maps
  // a few compatibility characters, e.g. U+3164, onto other invisible ones).
  return s.replace(INVISIBLE_G, '').normalize('NFKC').replace(INVISIBLE_G, '');
}

/** Deep-applies sanitizeText to every string (keys and values) in a JSON value; returns a new value. */
export function sanitizeJson<T>(v: T): T {
  return deepSanitize(v) as T;
}

function deepSanitize(v: unknown): unknown {
  if (typeof v === 'string') return sanitizeText(v);
  if (Array.isArray(v)) return v.map(deepSanitize);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      // defineProperty: a key such as "__proto__" must stay data, never become the prototype.
      // Two keys that sanitize to the same text collapse into one; the later one wins.
      Object.defineProperty(out, sanitizeText(k), { value: deepSanitize(val), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The text hidden in Unicode tag characters (U+E0020–U+E007E map to ASCII). */
export function decodeTags(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xe0020 && cp <= 0xe007e) out += String.fromCharCode(cp - 0xe0000);
  }
  return out;
}

/** Shows invisible characters (and, with `nonAscii`, every non-ASCII character) as \u{...} escapes. */
export function escapeText(s: string, nonAscii = false): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const hidden = INVISIBLE_TEST.test(ch) || (nonAscii && cp > 0x7e);
    out += hidden ? `\\u{${cp.toString(16).toUpperCase()}}` : ch;
  }
  return out;
}
