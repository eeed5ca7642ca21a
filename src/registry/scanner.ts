// Tool-poisoning scanner: inspects the tool definitions an MCP server advertises (names, titles,
// descriptions, input/output JSON Schemas, annotations) for text aimed at the model rather than at
// the user: hidden instructions, requests for secrets, exfiltration parameters, steering towards
// other servers' tools, unapproved URLs, and invisible or deceptive Unicode. Pure functions, no I/O.

import { hostAllowed } from '../core/hosts.js';
import { codePointNames, foldConfusables, scriptsOf } from './confusables.js';
import { BEFORE_USING, EXFIL_DESCRIPTION, EXFIL_NAME, HIDDEN_INSTRUCTION, SECRET_REQUEST, SENSITIVE_PATH_ONLY, URL_RE } from './scanPatterns.js';
import { decodeTags, EMOJI_BASE, EMOJI_SEQ_NEXT, EMOJI_SEQ_PREV, escapeText, INVISIBLE_G, isVariationSelector, sanitizeText } from '../core/sanitize.js';

import { HINTS, reviewTools } from './reviewChecks.js';
import { clip, collectStrings, excerptAround, inputProperties, MAX_EXCERPT, type Finding, type FindingKind, type Leaf, type ScanOptions, type ToolDef } from './reviewWalk.js';

export type { Finding, FindingKind, ScanOptions, ToolDef } from './reviewWalk.js';

// ---------------------------------------------------------------------------------------------
// Text detectors
// ---------------------------------------------------------------------------------------------

interface Hit {
  kind: FindingKind;
  start: number;
  end: number;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// Scanning
// ---------------------------------------------------------------------------------------------

interface Context {
  opts: ScanOptions;
  ownTools: Set<string>;
  /** Cross-server patterns, built once per scan. */
  crossServer: RegExp[];
}

function buildCrossServer(opts: ScanOptions, own: Set<string>): RegExp[] {
  const res: RegExp[] = [];
  const others = opts.otherServers.filter((s) => s && s !== opts.server);
  const boundaryBefore = '(?<![\\w./@:-])';
  const boundaryAfter = '(?![\\w-]|\\.\\w)';
  for (const t of opts.otherTools) {
    if (!t || t.startsWith(`${opts.server}.`)) continue;
    res.push(new RegExp(`${boundaryBefore}${escapeRegExp(t)}${boundaryAfter}`, 'i'));
    const bare = t.slice(t.indexOf('.') + 1);
    // A bare tool name only when it is distinctive and not also one of this server's tools.
    if (bare && !own.has(bare) && (/[_-]/.test(bare) || /[a-z][A-Z]/.test(bare)) && bare.length >= 5) {
      res.push(new RegExp(`${boundaryBefore}${escapeRegExp(bare)}${boundaryAfter}`));
    }
  }
  for (const s of others) {
    const id = escapeRegExp(s);
    // "billing.issue_refund", "billing:issue_refund", "billing/issue_refund", "billing__issue_refund"
    res.push(new RegExp(`${boundaryBefore}${id}(?:\\.|::?|/|__)[A-Za-z_][\\w-]*`, 'i'));
    // "use the issue_refund tool of the billing server", "call the billing tools"
    const verb = '\\b(?:use|call|invoke|run|trigger|execute|prefer|route|send|forward|pass|delegate|instead\\s+of)\\b[\\s\\S]{0,60}?';
    res.push(new RegExp(`${verb}\\b(?:tools?|functions?)\\s+(?:of|from|on|in|at|provided\\s+by)\\s+(?:the\\s+)?[\`'"]?${id}\\b`, 'i'));
    res.push(new RegExp(`${verb}\\b${id}\\s+(?:server|mcp|tools?|functions?|service|api)\\b`, 'i'));
  }
  return res;
}

function firstHit(re: RegExp, text: string): { start: number; end: number } | undefined {
  const m = re.exec(text);
  return m ? { start: m.index, end: m.index + m[0].length } : undefined;
}

/** Findings for one piece of text (already sanitized and confusable-folded in `folded`). */
function detectText(display: string, folded: string, leaf: Leaf, ctx: Context): Hit[] {
  const hits: Hit[] = [];
  const push = (kind: FindingKind, h?: { start: number; end: number }) => {
    if (h && !hits.some((x) => x.kind === kind)) hits.push({ kind, ...h });
  };

  for (const re of HIDDEN_INSTRUCTION) push('hidden-instruction', firstHit(re, folded));
  const before = BEFORE_USING.exec(folded);
  if (before) {
    const verb = before[1].toLowerCase();
    const rest = before[2] ?? '';
    const namesOwnTool = [...ctx.ownTools].some((t) => new RegExp(`\\b${escapeRegExp(t)}\\b`).test(rest));
    const benign = /^(?:call|invoke|run|use|execute)$/.test(verb) && namesOwnTool && !SENSITIVE_PATH_ONLY.test(rest);
    if (!benign) push('hidden-instruction', { start: before.index, end: before.index + before[0].length });
  }

  for (const re of SECRET_REQUEST) push('secret-request', firstHit(re, folded));
  // A secret location as a value the model would use (default, const, example, enum) needs no verb.
  if (/^(?:default|const|examples?|enum)$/.test(leaf.role)) push('secret-request', firstHit(SENSITIVE_PATH_ONLY, folded));

  for (const re of ctx.crossServer) push('cross-server-reference', firstHit(re, folded));

  URL_RE.lastIndex = 0;
  for (let m = URL_RE.exec(display); m; m = URL_RE.exec(display)) {
    const raw = m[0].replace(/[.,;:!?'"]+$/, '');
    const candidate = (raw.toLowerCase().startsWith('www.') ? `http://${raw}` : raw).replace(/\\(?=[./])/g, '');
    let host: string;
    try {
      host = new URL(candidate).hostname
        .toLowerCase()
        .replace(/\.$/, '')
        .replace(/^\[|\]$/g, '');
    } catch {
      host = '';
    }
    // The JSON Schema dialect of a schema is metadata, not text for the model.
    if (leaf.role === '$schema' && (host === 'json-schema.org' || host === 'www.json-schema.org')) continue;
    if (host && hostAllowed(host, ctx.opts.urlAllowlist)) continue;
    push('url-not-allowed', { start: m.index, end: m.index + raw.length });
    break;
  }
  return hits;
}

function scanLeaf(tool: string, leaf: Leaf, ctx: Context, out: Finding[]): void {
  const raw = leaf.text;
  const add = (kind: FindingKind, excerpt: string) => out.push({ tool, where: leaf.where, kind, excerpt });

  // Invisible code points, in the raw text.
  const invisible = [...raw.matchAll(INVISIBLE_G)].filter((m) => {
    const cp = m[0].codePointAt(0)!;
    const prev = [...raw.slice(0, m.index)].pop() ?? '';
    // Emoji presentation (❤️) and emoji ZWJ sequences (👩‍💻) are legitimate uses.
    if (cp === 0x200d) return !(EMOJI_SEQ_PREV.test(prev) && EMOJI_SEQ_NEXT.test(raw.slice(m.index + 1)));
    if (!isVariationSelector(cp) || cp >= 0xe0100) return true;
    return !(EMOJI_BASE.test(prev) || prev === '\u200D');
  });
  if (invisible.length > 0) {
    const first = invisible[0];
    const tags = decodeTags(raw);
    const cps = [...new Set(invisible.map((m) => m[0].codePointAt(0)!))];
    const summary = tags
      ? `${cps.length} kinds of invisible code point; tag text "${clip(tags, 60)}"`
      : `${invisible.length} invisible: ${cps
          .slice(0, 4)
          .map((c) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`)
          .join(' ')}`;
    const around = tags ? '' : ` in ${excerptAround(raw, first.index, first.index + first[0].length, 25)}`;
    add('invisible-unicode', clip(`${summary}${around}`, MAX_EXCERPT + 40));
  }

  // Mixed-script words (Latin with Cyrillic/Greek/…): homoglyph spoofing of identifiers or keywords.
  for (const m of sanitizeText(raw).matchAll(/[\p{L}\p{M}\p{N}_]+/gu)) {
    const scripts = scriptsOf(m[0]);
    if (scripts.has('Latin') && scripts.size > 1) {
      add('deceptive-unicode', `mixed ${[...scripts].join('+')} in "${escapeText(m[0], true)}" (${codePointNames(m[0])})`);
      break;
    }
  }

  // Textual detectors on the visible text (sanitized, confusables folded) and on any tag-smuggled text.
  const variants: Array<{ label: string; display: string }> = [{ label: '', display: sanitizeText(raw) }];
  const tags = decodeTags(raw);
  if (tags.trim()) variants.push({ label: '[tag text] ', display: sanitizeText(tags) });
  const seen = new Set<FindingKind>();
  for (const v of variants) {
    const folded = foldConfusables(v.display);
    for (const hit of detectText(v.display, folded, leaf, ctx)) {
      if (seen.has(hit.kind)) continue;
      seen.add(hit.kind);
      add(hit.kind, `${v.label}${excerptAround(v.display, hit.start, hit.end)}`);
    }
  }
}

function scanName(tool: ToolDef, ctx: Context, allNames: Map<string, string>, out: Finding[]): void {
  const name = tool.name;
  const add = (excerpt: string) => out.push({ tool: name, where: 'name', kind: 'deceptive-unicode', excerpt: clip(excerpt, MAX_EXCERPT + 40) });
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    const skeleton = foldConfusables(sanitizeText(name));
    const imitates = skeleton !== name ? allNames.get(skeleton) : undefined;
    const scripts = [...scriptsOf(name)];
    const why =
      name.length === 0
        ? 'empty name'
        : [...name].length > 64
          ? `${[...name].length} characters (max 64)`
          : `characters outside [A-Za-z0-9_.-]: ${codePointNames(name) || 'punctuation or space'}${scripts.length > 1 ? `, mixed ${scripts.join('+')}` : ''}`;
    add(`"${clip(escapeText(name, true), 60)}": ${why}${imitates ? `; looks like ${imitates}` : skeleton !== name && /^[A-Za-z0-9_.-]{1,64}$/.test(skeleton) ? `; reads as "${skeleton}"` : ''}`);
  }
}

/**
 * Scans tool definitions from server `opts.server` for poisoning. Every string is examined: name,
 * title, description, every key and value of inputSchema/outputSchema (property names,
 * descriptions, titles, defaults, enum values, examples, const, pattern, …) and annotations.
 * At most one finding per tool, place and kind.
 */
export function scanTools(tools: ToolDef[], opts: ScanOptions): Finding[] {
  const ownTools = new Set(tools.map((t) => t.name));
  const ctx: Context = { opts, ownTools, crossServer: buildCrossServer(opts, ownTools) };
  const allNames = new Map<string, string>();
  for (const t of opts.otherTools) allNames.set(t.slice(t.indexOf('.') + 1), t);
  for (const t of tools) if (/^[A-Za-z0-9_.-]{1,64}$/.test(t.name)) allNames.set(t.name, `${opts.server}.${t.name}`);

  const review = opts.reviewChecks === false ? [] : reviewTools(tools, opts);
  const findings: Finding[] = [];
  for (const tool of tools) {
    const out: Finding[] = [];
    scanName(tool, ctx, allNames, out);

    const leaves: Leaf[] = [{ where: 'name', text: tool.name, role: 'name', isKey: false }];
    if (typeof tool.title === 'string') leaves.push({ where: 'title', text: tool.title, role: 'title', isKey: false });
    if (typeof tool.description === 'string') leaves.push({ where: 'description', text: tool.description, role: 'description', isKey: false });
    collectStrings(tool.inputSchema, 'inputSchema', 'inputSchema', leaves);
    if (tool.outputSchema) collectStrings(tool.outputSchema, 'outputSchema', 'outputSchema', leaves);
    if (tool.annotations) collectStrings(tool.annotations, 'annotations', 'annotations', leaves);
    for (const leaf of leaves) scanLeaf(tool.name, leaf, ctx, out);

    // Exfiltration parameters: by name, by description, or named by a secret request elsewhere in the tool.
    const props: Array<{ name: string; where: string; schema: Record<string, unknown> }> = [];
    inputProperties(tool.inputSchema, 'inputSchema', props);
    const requests = leaves.filter((l) => out.some((f) => f.where === l.where && (f.kind === 'secret-request' || f.kind === 'hidden-instruction')));
    for (const p of props) {
      const bareName = foldConfusables(sanitizeText(p.name))
        .toLowerCase()
        .replace(/[\s_-]/g, '');
      const texts = ['description', 'title']
        .map((k) => p.schema[k])
        .filter((d): d is string => typeof d === 'string')
        .map((d) => foldConfusables(sanitizeText(d) + ' ' + sanitizeText(decodeTags(d))));
      let excerpt: string | undefined;
      if (EXFIL_NAME.test(bareName)) excerpt = `property "${escapeText(p.name, true)}"`;
      for (const t of texts) {
        for (const re of EXFIL_DESCRIPTION) {
          const h = excerpt ? undefined : firstHit(re, t);
          if (h) excerpt = `property "${escapeText(p.name, true)}": ${excerptAround(t, h.start, h.end, 30)}`;
        }
      }
      if (!excerpt) {
        const named = new RegExp(`(?:\\b(?:as|in|into|via|to|through|parameter|param|field|argument)\\s+(?:the\\s+)?[\`'"]?${escapeRegExp(p.name)}\\b|[\`'"]${escapeRegExp(p.name)}[\`'"])`, 'i');
        const by = requests.find((l) => named.test(foldConfusables(sanitizeText(l.text) + ' ' + decodeTags(l.text))));
        if (by) excerpt = `property "${escapeText(p.name, true)}" is the channel for a request in ${by.where}`;
      }
      if (excerpt) out.push({ tool: tool.name, where: p.where, kind: 'exfiltration-parameter', excerpt: clip(excerpt, MAX_EXCERPT + 40) });
    }

    out.push(...review.filter((f) => f.tool === tool.name));
    const seen = new Set<string>();
    for (const f of out) {
      const key = `${f.where}\u0000${f.kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push({ ...f, hint: f.hint ?? HINTS[f.kind] });
    }
  }
  return findings;
}

/** One line per finding: `tool  where  kind: excerpt — fix: hint`. */
export function describeFindings(f: Finding[]): string {
  return f.map((x) => `${escapeText(x.tool, true)} ${x.where} ${x.kind}: ${x.excerpt}${x.hint ? ` — fix: ${x.hint}` : ''}`).join('\n');
}
