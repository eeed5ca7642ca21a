// Where a problem is in the YAML file: the node ranges of the parsed document, turned into line and column
// by its LineCounter; and what a zod issue or a YAML error means for the person editing the file.
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { formatPath, type ConfigIssue } from './errors.js';
import { DURATION_FIX, DURATION_MESSAGE } from './schema.js';

type Pos = { line: number; col: number };
type Found = { node?: Node; key?: Node; depth: number; parent?: Found };

export class ConfigSource {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  private pos(node: Node | undefined): Pos | undefined {
    const start = node?.range?.[0];
    return start === undefined ? undefined : this.lines.linePos(start);
  }

  /** The deepest node along `path` that exists, with the key node it hangs from. */
  private find(path: readonly PropertyKey[]): Found {
    let found: Found = { node: (this.doc.contents ?? undefined) as Node | undefined, depth: 0 };
    for (const seg of path) {
      let node = found.node;
      if (node && isAlias(node)) node = node.resolve(this.doc) as Node | undefined;
      let next: Found | undefined;
      if (node && isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (pair) next = { node: (pair.value ?? undefined) as Node | undefined, key: pair.key as Node, depth: found.depth + 1, parent: found };
      } else if (node && isSeq(node) && typeof seg === 'number' && node.items[seg]) {
        next = { node: node.items[seg] as Node, depth: found.depth + 1, parent: found };
      }
      if (!next) break;
      found = next;
    }
    return found;
  }

  /** Position of the value at `path`, else of the nearest enclosing value that exists. */
  value(path: readonly PropertyKey[]): Pos | undefined {
    const f = this.find(path);
    // A missing key: the mapping that should hold it (where a sibling key starts).
    return this.pos(f.node ?? f.key) ?? this.pos(f.key);
  }

  /** Position of the key that ends `path` (an unknown key), else of its value or its parent. */
  key(path: readonly PropertyKey[]): Pos | undefined {
    const f = this.find(path);
    return f.depth === path.length ? (this.pos(f.key) ?? this.pos(f.node)) : this.value(path);
  }

  /** Whether the file spells out `path` (false: the key is missing). */
  has(path: readonly PropertyKey[]): boolean {
    return this.find(path).depth === path.length;
  }

  /** Environment variables a scalar at `path` reads (`${env.NAME}`), to say where a bad value came from. */
  envVars(path: readonly PropertyKey[]): string[] {
    const f = this.find(path);
    if (f.depth !== path.length || !f.node || !isScalar(f.node) || typeof f.node.value !== 'string') return [];
    return [...f.node.value.matchAll(/\$\{env\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
  }

  at(path: readonly PropertyKey[], where: Pos | undefined, message: string, fix?: string): ConfigIssue {
    return { file: this.file, path: formatPath(path), message, ...(where ? { line: where.line, col: where.col } : {}), ...(fix ? { fix } : {}) };
  }
}

const YAML_FIXES: Record<string, string> = {
  BAD_INDENT: 'indent this line like the other keys of its section, with spaces',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  DUPLICATE_KEY: 'keep one of the two keys',
  MISSING_CHAR: 'close the bracket, brace or quote opened here',
  UNEXPECTED_TOKEN: 'check the quotes, brackets and indentation of this line',
  MULTILINE_IMPLICIT_KEY: 'put the key and its colon on one line, or quote the value',
  BLOCK_AS_IMPLICIT_KEY: 'put a colon after the key, or quote the value',
  BAD_ALIAS: 'define the anchor (&name) before using it (*name)',
};

export function yamlIssue(src: ConfigSource, e: YAMLError): ConfigIssue {
  const p = src.lines.linePos(e.pos[0]);
  return {
    file: src.file,
    line: p.line,
    col: p.col,
    path: '',
    message: `YAML: ${e.message.split('\n')[0]}`,
    fix: YAML_FIXES[e.code] ?? 'check the YAML syntax of this line (quotes, brackets, indentation)',
  };
}

/** Every zod issue as config issues, at the offending node: an unknown key's own key, a bad value's value, a missing key's parent. */
export function zodIssues(src: ConfigSource, schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, path);
      return issue.keys.map((k) => src.at([...path, k], src.key([...path, k]), `unknown key "${k}"`, unknownKeyFix(k, known)));
    }
    if (!src.has(path) && issue.code === 'invalid_type') {
      const key = String(path[path.length - 1] ?? '');
      return [src.at(path, src.value(path), `required key "${key}" is missing`, `add "${key}: …" (a ${issue.expected}) here`)];
    }
    const from = src.envVars(path);
    const message = `${issue.message}${from.length ? ` (the value comes from ${from.map((v) => `$${v}`).join(', ')})` : ''}`;
    return [src.at(path, src.value(path), message, fixFor(issue))];
  });
}

function fixFor(issue: z.core.$ZodIssue): string {
  if (issue.message === DURATION_MESSAGE) return DURATION_FIX;
  switch (issue.code) {
    case 'invalid_type':
      return `write a ${issue.expected === 'int' ? 'whole number' : issue.expected} here`;
    case 'invalid_value':
      return `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'options' in issue && Array.isArray(issue.options) ? `use one of ${issue.options.map((v) => JSON.stringify(v)).join(', ')}` : 'see the comment on this key in src/config/schema.ts';
    case 'too_small':
      return `use ${issue.origin === 'array' ? 'a list of ' : 'a value '}${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}${issue.origin === 'array' ? ' items' : ''}`;
    case 'too_big':
      return `use ${issue.origin === 'array' ? 'a list of ' : 'a value '}${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}${issue.origin === 'array' ? ' items' : ''}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'write a full URL (http://host:port/path)' : issue.format === 'regex' ? `match ${issue.pattern ?? 'the expected pattern'}` : `write a valid ${issue.format}`;
    default:
      return 'see the README "Configuration" section and the comment on this key in src/config/schema.ts';
  }
}

function unknownKeyFix(key: string, known: string[]): string {
  const [a, b] = [key.toLowerCase(), (k: string) => k.toLowerCase()];
  const near = known.filter((k) => distance(b(k), a) <= (k.length >= 5 ? 2 : 1) || (a.length >= 4 && (b(k).startsWith(a) || a.startsWith(b(k)))));
  if (near.length) return `did you mean ${near.map((k) => `"${k}"`).join(' or ')}?`;
  return known.length && known.length <= 12 ? `remove it, or use one of ${known.join(', ')}` : 'remove it, or check its indentation (it may belong to another section)';
}

/** Edit distance (Levenshtein), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; valueType?: z.ZodType; element?: z.ZodType; options?: z.ZodType[] };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The keys an object schema at `path` accepts (the union of every option's for a union). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  const walk = (s: z.ZodType | undefined, rest: readonly PropertyKey[]): void => {
    if (!s) return;
    const d = defOf(s);
    if (d.innerType) return walk(d.innerType, rest);
    if (d.type === 'pipe') return walk(d.in, rest);
    if (d.type === 'union') return d.options?.forEach((o) => walk(o, rest));
    if (d.type === 'object' && d.shape) return rest.length ? walk(d.shape[String(rest[0])], rest.slice(1)) : Object.keys(d.shape).forEach((k) => keys.add(k));
    if (d.type === 'record' && rest.length) return walk(d.valueType, rest.slice(1));
    if (d.type === 'array' && rest.length) return walk(d.element, rest.slice(1));
  };
  walk(schema, path);
  return [...keys];
}
