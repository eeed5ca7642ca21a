// Review-grade checks: what a paraphrase cannot dodge. The pattern scanner (scanner.ts) looks for how
// poisoning is usually worded in English; these look at what a definition asks for and in what form:
// parameters unrelated to the tool's purpose (credentials, files, environment, the conversation),
// free text on read-only tools, mentions of other servers and their tools (also as paraphrase or
// split into words) and steering towards other tools, text that is not English, and encoded text
// (decoded for the reviewer). Pure functions, no I/O; scanTools runs them with the pattern checks.
import { foldConfusables } from './confusables.js';
import { decodeTags, sanitizeText } from '../core/sanitize.js';
import { classifyTool, type ToolAnnotations } from '../core/tools.js';
import { HIDDEN_INSTRUCTION, SECRET_REQUEST } from './scanPatterns.js';
import { CATEGORY_LABEL, categoriesOf, decodedIsInstruction, decodeRuns, despell, notEnglish, purposeCovers, stems, words, type Category } from './reviewText.js';
import { clip, collectStrings, excerptAround, inputProperties, MAX_EXCERPT, type Finding, type FindingKind, type Leaf, type ScanOptions, type ToolDef } from './reviewWalk.js';

/** What to do about each kind of finding (shown with it). */
export const HINTS: Record<FindingKind, string> = {
  'hidden-instruction': 'remove text addressed to the model; a description says what the tool does',
  'secret-request': 'remove the request; a tool never asks the model for secrets or local files',
  'exfiltration-parameter': 'remove the parameter, or make it a constrained field the tool needs',
  'cross-server-reference': 'remove the reference to the other server; a tool describes only itself',
  'url-not-allowed': 'remove the URL, or add its host to registry.urlAllowlist after checking it',
  'invisible-unicode': 'remove the invisible characters',
  'deceptive-unicode': 'use plain ASCII names; mixed scripts imitate other names',
  'unrelated-parameter': 'remove the parameter, or describe why the tool needs it in the tool description',
  'free-text-parameter': 'constrain it (enum, pattern, format, or maxLength ≤ 200) or remove it: a read-only tool needs no free text',
  'tool-steering': 'remove the instruction to call other tools; the agent decides which tools to use',
  'non-english-text': 'ask for an English definition; reviewers and the scanner read English',
  'encoded-text': 'remove the encoded text; a definition is plain text a reviewer can read',
  'model-review': 'read the definition with the reviewer model’s reason in mind; fix it, or override with the reason it is fine',
};

const SYSTEM_NOUN = '(?:system|server|service|app|application|api|platform|integration|connector|backend|module)';
const TOOL_NOUN = '(?:tools?|functions?|actions?|endpoints?|operations?|commands?|methods?|capabilit(?:y|ies)|features?|apis?)';
const POSS = "(?:'s|’s)?";
const ESC = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Ctx {
  opts: ScanOptions;
  own: Set<string>;
  /** Own tools' names as spoken phrases ("search accounts"). */
  ownPhrases: Set<string>;
  crossText: RegExp[];
  /** Other servers' tool names split into words, matched on the words of property names too. */
  crossWords: RegExp[];
}

function buildContext(tools: ToolDef[], opts: ScanOptions): Ctx {
  const own = new Set(tools.map((t) => t.name));
  const ownPhrases = new Set(tools.map((t) => words(t.name).join(' ')));
  const crossText: RegExp[] = [];
  const crossWords: RegExp[] = [];
  for (const s of opts.otherServers.filter((x) => x && x !== opts.server)) {
    const id = words(s).map(ESC).join('[\\s_-]+');
    // "the billing system's refund function", "billing service endpoints"
    crossText.push(new RegExp(`\\b${id}${POSS}\\s+${SYSTEM_NOUN}${POSS}\\b[\\s\\S]{0,40}?\\b${TOOL_NOUN}\\b`, 'i'));
    // "the refund function of the billing system", "the functions provided by billing"
    crossText.push(new RegExp(`\\b${TOOL_NOUN}\\s+(?:of|from|in|on|at|provided\\s+by|exposed\\s+by|offered\\s+by)\\s+(?:the\\s+)?${id}\\b`, 'i'));
    // "hand off to the billing system", "ask the billing service"
    crossText.push(
      new RegExp(
        `\\b(?:ask|tell|notify|contact|use|call|invoke|query|consult|check\\s+with|hand\\s+(?:it\\s+)?(?:off|over)\\s+to|switch\\s+to|route\\s+to|send\\s+(?:it\\s+)?to|forward\\s+(?:it\\s+)?to)\\b[\\s\\S]{0,30}?\\b${id}\\s+${SYSTEM_NOUN}\\b`,
        'i',
      ),
    );
  }
  for (const t of opts.otherTools) {
    if (!t || t.startsWith(`${opts.server}.`)) continue;
    const bare = t.slice(t.indexOf('.') + 1);
    const w = words(bare);
    if (own.has(bare) || w.length < 2 || ownPhrases.has(w.join(' '))) continue;
    // "issue refund", "Issue-Refund", "the issue a refund function"
    const phrase = w.map(ESC).join('[\\s_-]+');
    crossText.push(new RegExp(`\\b${phrase}\\b`, 'i'));
    crossText.push(new RegExp(`\\b${w.map(ESC).join('\\s+(?:an?\\s+|the\\s+)?')}\\s+${TOOL_NOUN}\\b`, 'i'));
    crossWords.push(new RegExp(`\\b${w.map(ESC).join(' ')}\\b`));
  }
  return { opts, own, ownPhrases, crossText, crossWords };
}

/** "before/after using this tool, call …", "use another tool": the steered-to part when it is no tool of this server's. */
const STEERING: RegExp[] = [
  /\b(?:before|after|once|when(?:ever)?|prior\s+to|having)\b[^.;]{0,40}?\b(?:using|calling|invoking|running|executing|used|called|invoked|run|you\s+(?:use|call|invoke|run))\b[^.;]{0,30}?\b(?:this|the|these|that)\s+(?:tool|function|action)s?\b[^.;]{0,60}?\b(?:call|use|invoke|run|trigger|execute|query)\b([^.;]{0,80})/i,
  /\b(?:call|use|invoke|run|trigger|execute|query)\s+(?:also\s+)?(?:another|a\s+different|an\s+other|other|a\s+second|the\s+other|every\s+other|all\s+other)\s+(?:tool|function|server|system|service|action)s?\b([^.;]{0,80})/i,
  /\b(?:also|then|afterwards|additionally)\s+(?:always\s+)?(?:call|invoke|trigger)\b([^.;]{0,80})/i,
];

function namesOwnTool(rest: string, ctx: Ctx): boolean {
  const spoken = words(rest).join(' ');
  return [...ctx.own].some((t) => new RegExp(`\\b${ESC(t)}\\b`).test(rest)) || [...ctx.ownPhrases].some((p) => p.includes(' ') && ` ${spoken} `.includes(` ${p} `));
}

function leavesOf(tool: ToolDef): Leaf[] {
  const leaves: Leaf[] = [];
  if (typeof tool.title === 'string') leaves.push({ where: 'title', text: tool.title, role: 'title', isKey: false });
  if (typeof tool.description === 'string') leaves.push({ where: 'description', text: tool.description, role: 'description', isKey: false });
  collectStrings(tool.inputSchema, 'inputSchema', 'inputSchema', leaves);
  if (tool.outputSchema) collectStrings(tool.outputSchema, 'outputSchema', 'outputSchema', leaves);
  if (tool.annotations) collectStrings(tool.annotations, 'annotations', 'annotations', leaves);
  return leaves;
}

/** Schema keywords whose values are machine syntax, not text for the model. */
const SYNTAX_ROLES = new Set(['pattern', 'patternProperties', '$schema', '$ref', '$id', '$anchor', 'format', 'contentEncoding', 'contentMediaType', 'type']);
const PROSE_ROLES = new Set(['title', 'description']);

function textChecks(tool: ToolDef, leaf: Leaf, ctx: Ctx, add: (f: Omit<Finding, 'tool'>) => void): void {
  if (SYNTAX_ROLES.has(leaf.role)) return;
  const visible = sanitizeText(leaf.text);
  const tags = decodeTags(leaf.text);
  const display = tags.trim() ? `${visible} ${sanitizeText(tags)}` : visible;
  const folded = foldConfusables(display);
  const isPropName = leaf.isKey && /\.properties\.[^.]+$|\.properties\[[^\]]+\]$/.test(leaf.where);

  // Not English: prose in another language, or names and prose in another script.
  if (PROSE_ROLES.has(leaf.role) || isPropName) {
    const why = isPropName ? (/(?:(?!\p{Script=Latin})\p{L}){2,}/u.test(display) ? notEnglish(display) : undefined) : notEnglish(display);
    if (why) add({ where: leaf.where, kind: 'non-english-text', excerpt: clip(`${why}: ${excerptAround(display, 0, 0, 100)}`, MAX_EXCERPT + 40) });
  }

  // Encoded runs that decode to text, and secret paths spelled out in words.
  const runs = decodeRuns(display);
  if (runs.length) {
    const r = runs[0]!;
    const decoded = clip(sanitizeText(r.decoded).replace(/\s+/g, ' ').trim(), 80);
    const instruction = runs.some((x) => decodedIsInstruction(x.decoded)) ? ' (an instruction)' : '';
    add({
      where: leaf.where,
      kind: 'encoded-text',
      excerpt: clip(`${r.encoding}${instruction} "${excerptAround(display, r.start, r.end, 0).slice(0, 40)}" decodes to "${decoded}"`, MAX_EXCERPT + 60),
    });
  }

  // Names made of words: read them as a sentence ("note_from_system_prompt", "ignoreAllPreviousInstructions").
  const spoken = leaf.isKey ? words(folded).join(' ') : folded;
  if (leaf.isKey && words(folded).length >= 3) {
    const hit = [...HIDDEN_INSTRUCTION, ...SECRET_REQUEST].find((re) => re.test(spoken));
    if (hit) add({ where: leaf.where, kind: 'hidden-instruction', excerpt: clip(`property name reads "${spoken}"`, MAX_EXCERPT) });
  }

  // Other servers and their tools, by paraphrase or in words.
  for (const re of leaf.isKey ? ctx.crossWords : ctx.crossText) {
    const m = re.exec(leaf.isKey ? spoken : despell(folded));
    if (m) {
      add({ where: leaf.where, kind: 'cross-server-reference', excerpt: leaf.isKey ? `property name reads "${spoken}"` : excerptAround(despell(folded), m.index, m.index + m[0].length) });
      break;
    }
  }

  // Steering the model to other tools.
  if (!leaf.isKey) {
    for (const re of STEERING) {
      const m = re.exec(folded);
      if (m && !namesOwnTool(m[1] ?? '', ctx)) {
        add({ where: leaf.where, kind: 'tool-steering', excerpt: excerptAround(folded, m.index, m.index + m[0].length) });
        break;
      }
    }
  }
}

const LOCATOR = new Set([
  'id',
  'ids',
  'path',
  'paths',
  'dir',
  'directory',
  'file',
  'filename',
  'url',
  'uri',
  'urls',
  'name',
  'names',
  'pattern',
  'patterns',
  'glob',
  'slug',
  'code',
  'email',
  'date',
  'time',
  'timezone',
  'locale',
  'language',
  'lang',
  'currency',
  'country',
  'city',
  'sku',
  'handle',
  'username',
  'type',
  'kind',
  'status',
  'sort',
  'order',
  'field',
  'fields',
  'format',
  'version',
  'tag',
  'tags',
  'label',
  'labels',
  'category',
  'symbol',
  'ticker',
  'cursor',
]);
const SEARCH_TOOL = new Set(['search', 'find', 'lookup', 'look', 'queri', 'list', 'filter', 'match']);
const SEARCH_PARAM = new Set(['queri', 'q', 'search', 'term', 'filter', 'keyword']);
const GENERIC_VERBS = new Set(['get', 'list', 'read', 'fetch', 'show', 'find', 'search', 'lookup', 'look', 'creat', 'updat', 'delet', 'add', 'set', 'run', 'do', 'make', 'tool']);

type Prop = { name: string; where: string; schema: Record<string, unknown> };

function isFreeText(schema: Record<string, unknown>): boolean {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const items = schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items) ? (schema.items as Record<string, unknown>) : undefined;
  const s = types.includes('string') ? schema : types.includes('array') && items && (items.type === 'string' || (Array.isArray(items.type) && items.type.includes('string'))) ? items : undefined;
  if (!s) return false;
  if (['enum', 'const', 'pattern', 'format'].some((k) => s[k] !== undefined || schema[k] !== undefined)) return false;
  const max = s.maxLength;
  return !(typeof max === 'number' && max <= 200);
}

function paramChecks(tool: ToolDef, props: Prop[], add: (f: Omit<Finding, 'tool'>) => void): void {
  const purposeText = [tool.name, tool.title, tool.description, (tool.annotations as { title?: unknown } | undefined)?.title].filter((x): x is string => typeof x === 'string').join(' ');
  const purpose = new Set(stems(foldConfusables(sanitizeText(purposeText))));
  const nameStems = new Set(stems(tool.name).filter((s) => !GENERIC_VERBS.has(s)));
  const required = new Set(Array.isArray(tool.inputSchema.required) ? (tool.inputSchema.required as string[]) : []);
  const text = (p: Prop, k: 'description' | 'title') => (typeof p.schema[k] === 'string' ? foldConfusables(sanitizeText(p.schema[k] as string)) : '');

  // 1. Parameters asking for something the tool's purpose does not cover.
  for (const p of props) {
    const sources: Array<[string, string]> = [
      [p.where, foldConfusables(sanitizeText(p.name))],
      [`${p.where}.description`, despell(text(p, 'description'))],
      [`${p.where}.title`, despell(text(p, 'title'))],
    ];
    for (const [where, t] of sources) {
      if (!t) continue;
      const cats = [...categoriesOf(t)].filter(([c]) => !purposeCovers(c, purpose));
      // "contents of" only matters with something else the tool has no business asking for.
      const unrelated = cats.filter(([c]) => c !== 'contents' || cats.length > 1);
      if (!unrelated.length) continue;
      const asks = unrelated.map(([c, phrase]) => `${CATEGORY_LABEL[c as Category]} ("${phrase}")`).join(', ');
      add({ where, kind: 'unrelated-parameter', excerpt: clip(`property "${p.name}" asks for ${asks}; the tool: "${clip(purposeText.replace(/\s+/g, ' '), 60)}"`, MAX_EXCERPT + 60) });
    }
  }

  // 2. Free text on a read-only tool: a channel for data to leave.
  if (!classifyTool(tool.annotations as ToolAnnotations | undefined).readOnly) return;
  const candidates = props.filter((p) => {
    if (!isFreeText(p.schema)) return false;
    const w = words(p.name);
    if (/(?:Id|_id|ID|Ids|_ids|IDs)$/.test(p.name) || LOCATOR.has(w[w.length - 1] ?? '')) return false;
    const ps = stems(p.name);
    if ([...purpose].some((s) => SEARCH_TOOL.has(s)) && ps.length <= 2 && ps.some((s) => SEARCH_PARAM.has(s))) return false;
    return true;
  });
  for (const p of candidates) {
    const top = p.where === `inputSchema.properties.${p.name}`;
    // The tool's one operand, named for what the tool does (echo's message "to echo").
    const about = stems(`${p.name} ${text(p, 'description')}`);
    if (candidates.length === 1 && top && required.has(p.name) && about.some((s) => nameStems.has(s))) continue;
    add({ where: p.where, kind: 'free-text-parameter', excerpt: `property "${p.name}": a string without enum, pattern, format or maxLength ≤ 200 on a read-only tool (annotated read-only)` });
  }
}

/** The review-grade findings for `tools` of server `opts.server` (one per tool, place and kind). */
export function reviewTools(tools: ToolDef[], opts: ScanOptions): Finding[] {
  const ctx = buildContext(tools, opts);
  const out: Finding[] = [];
  for (const tool of tools) {
    const seen = new Set<string>();
    const add = (f: Omit<Finding, 'tool'>) => {
      const key = `${f.where}\u0000${f.kind}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ tool: tool.name, ...f });
    };
    for (const leaf of leavesOf(tool)) textChecks(tool, leaf, ctx, add);
    const props: Prop[] = [];
    inputProperties(tool.inputSchema, 'inputSchema', props);
    paramChecks(tool, props, add);
  }
  return out;
}
