// Where a problem in the policy directory is: files, lines and Cedar's byte offsets, and the located
// PolicyError every load problem becomes.
import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';

/** A problem in the policy directory, located: `message` reads `${file}:${line}: ...`. */
export class PolicyError extends Error {
  override name = 'PolicyError';
  constructor(
    /** The problem without the location prefix. */
    readonly detail: string,
    readonly file: string,
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
  }
}

export interface Located {
  file: string;
  line?: number;
  message: string;
}

export function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Cedar reports UTF-8 byte offsets; JS strings index UTF-16 units. */
export function charIndex(text: string, byteOffset: number): number {
  return Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

/** 1-based line of a char offset. */
export function lineAt(text: string, charOffset: number): number {
  let line = 1;
  for (let i = 0; i < charOffset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Line of `re`'s match (of its last char: the name it ends on); with `then`, of `then`'s first match after it. */
export function findLine(text: string, re: RegExp, then?: RegExp): number | undefined {
  const m = re.exec(text);
  if (!m) return undefined;
  const at = m.index + m[0].length - 1;
  if (then) {
    const t = new RegExp(then.source, 'g');
    t.lastIndex = at;
    const n = t.exec(text);
    if (n) return lineAt(text, n.index);
  }
  return lineAt(text, at);
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function errorText(e: DetailedError): string {
  return e.help ? `${e.message} (${e.help})` : e.message;
}

/** A Cedar error about `text` (a whole file), at the line of its first source location. */
export function locateIn(file: string, text: string, e: DetailedError): Located {
  const off = e.sourceLocations?.[0]?.start;
  return { file, line: off === undefined ? undefined : lineAt(text, charIndex(text, off)), message: errorText(e) };
}

export function located(l: Located): string {
  return `${l.file}${l.line !== undefined ? `:${l.line}` : ''}: ${l.message}`;
}

/** Throws the first problem (in file, then line order) as a PolicyError; the others follow in the message. */
export function throwLocated(all: Located[], fallback: string): never {
  if (all.length === 0) throw new PolicyError(fallback, '<unknown>');
  const sorted = [...all].sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1));
  const [first, ...rest] = sorted;
  const more = rest.length > 0 ? `\n${rest.map(located).join('\n')}` : '';
  throw new PolicyError(`${first.message}${more}`, first.file, first.line);
}
