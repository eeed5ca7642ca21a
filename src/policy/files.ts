/*
 * One `*.cedar` file → its policies: each one's id, effect, annotations (the approval requirement parsed),
 * Cedar JSON form, source text and position. Every problem is a PolicyError at its line.
 *
 * Approval annotations (anything but @approval needs @approval):
 *   @approval("finance")         approver group                     @quorum("2")   distinct approvers (1-100, default 1)
 *   @expires("72h")              deadline from the request          @escalate_to("finance-leads") + @escalate_after("24h"):
 *                                                                   that group may also decide after the delay (both or neither)
 * On a permit they say what a call the permit allows needs. On a forbid they make it a hold: a call it stops may
 * still run if the permits allow it and this approval is given (engine.ts, "Holds"); a forbid without them is absolute.
 * Durations: core/duration.ts (<digits>(ms|s|m|h|d), > 0). Other annotations: @id, @reason (shown in deny
 * reasons), @description. Any other annotation is a load error: a misspelt @aproval must not silently turn
 * an approval policy into a plain permit.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import { DURATION_HINT, parseDuration } from '../core/duration.js';
import { charIndex, errorText, escapeRe, lineAt, locateIn, PolicyError, throwLocated } from './location.js';
import type { ApprovalRequirement } from './types.js';

const KNOWN_ANNOTATIONS = ['id', 'description', 'reason', 'approval', 'quorum', 'expires', 'escalate_to', 'escalate_after'];
const APPROVAL_DETAILS = ['quorum', 'expires', 'escalate_to', 'escalate_after'];
const MAX_QUORUM = 100;

export interface ParsedPolicy {
  id: string;
  effect: 'permit' | 'forbid';
  file: string;
  /** Line of its first code (its first annotation, else `permit`/`forbid`): where load errors about it point. */
  line: number;
  /** Line of its @id annotation, else `line`. */
  idLine: number;
  description?: string;
  reason?: string;
  approval?: ApprovalRequirement;
  json: PolicyJson;
  /** Cedar's JSON form, serialized: what the version hashes. */
  canonical: string;
  /** Its source text, from its first annotation (or keyword) to its `;`. */
  text: string;
  /** Char offset of `text` in the file. */
  start: number;
}

/** Parses the file's policies in source order; `fileName` names policies without @id (`<fileName>:<index>`). */
export function parsePolicyFile(path: string, fileName: string, text: string): ParsedPolicy[] {
  // Whole-file parse first: syntax errors are located in the file as Cedar sees it.
  const whole = cedar.checkParsePolicySet({ staticPolicies: text });
  const wholeErrors = whole.type === 'failure' ? whole.errors : [];
  if (wholeErrors.some((e) => e.sourceLocations?.length))
    throwLocated(
      wholeErrors.map((e) => locateIn(path, text, e)),
      'syntax error',
    );

  const statements = scanStatements(text);
  if (wholeErrors.length === 0) agreeWithCedar(path, text, statements);
  const out = statements.map((s, index) => parseOne(path, fileName, text, s, index));
  // Cedar rejected the file without saying where, yet each policy parses alone: report it unlocated.
  if (wholeErrors.length > 0) throw new PolicyError(wholeErrors.map(errorText).join('; '), path);
  return out;
}

function parseOne(path: string, fileName: string, fileText: string, s: Statement, index: number): ParsedPolicy {
  const lineOf = (charInStatement: number) => lineAt(fileText, s.start + charInStatement);
  const j = cedar.policyToJson(s.text);
  if (j.type === 'failure') {
    throwLocated(
      j.errors.map((e) => {
        const off = e.sourceLocations?.[0]?.start;
        return { file: path, line: lineOf(off === undefined ? 0 : charIndex(s.text, off)), message: errorText(e) };
      }),
      'policy error',
    );
  }
  const json = j.json;
  // An annotation written without a value (`@approval`) comes back as null.
  const ann: Record<string, string | null> = json.annotations ?? {};
  const annLine = (name: string) => {
    const m = new RegExp(`@\\s*${escapeRe(name)}\\b`).exec(s.masked);
    return lineOf(m ? m.index : 0);
  };
  const fail = (name: string, message: string): never => {
    throw new PolicyError(message, path, annLine(name));
  };
  const values: Record<string, string> = {};
  for (const [k, val] of Object.entries(ann)) {
    if (!KNOWN_ANNOTATIONS.includes(k)) fail(k, `unknown annotation @${k} (known: ${KNOWN_ANNOTATIONS.map((a) => `@${a}`).join(', ')})`);
    if (typeof val !== 'string') return fail(k, `annotation @${k} needs a value, e.g. @${k}("...")`);
    values[k] = val;
  }
  const id = values.id ?? `${fileName}:${index}`;
  if (values.id !== undefined && !values.id.trim()) fail('id', '@id must not be empty');
  const line = lineOf(0);
  const p: ParsedPolicy = { id, effect: json.effect, file: path, line, idLine: values.id !== undefined ? annLine('id') : line, json, canonical: JSON.stringify(json), text: s.text, start: s.start };
  if (values.description) p.description = values.description;
  if (values.reason) p.reason = values.reason;
  if (values.approval !== undefined) {
    // On a permit: what the calls it allows need. On a forbid: a hold, lifted by this approval (engine.ts).
    p.approval = parseApproval(values, fail);
  } else {
    for (const k of APPROVAL_DETAILS) if (values[k] !== undefined) fail(k, `@${k} needs @approval("<group>") on the same policy`);
  }
  return p;
}

function parseApproval(ann: Record<string, string>, fail: (name: string, message: string) => never): ApprovalRequirement {
  const group = (name: string): string => {
    const g = ann[name];
    // Control characters are matched in order to refuse them in a group name.
    // eslint-disable-next-line no-control-regex
    if (!/^[^\s\x00-\x1f]+(?: [^\s\x00-\x1f]+)*$/.test(g)) fail(name, `@${name} must name a group, got ${JSON.stringify(g)}`);
    return g;
  };
  const duration = (name: string): number => {
    const v = ann[name];
    return parseDuration(v) ?? fail(name, `@${name}: invalid duration ${JSON.stringify(v)} (expected ${DURATION_HINT})`);
  };
  const a: ApprovalRequirement = { group: group('approval'), quorum: 1 };
  if (ann.quorum !== undefined) {
    const q = /^[1-9]\d*$/.test(ann.quorum) ? Number(ann.quorum) : NaN;
    if (!(q >= 1 && q <= MAX_QUORUM)) fail('quorum', `@quorum must be a whole number from 1 to ${MAX_QUORUM}, got ${JSON.stringify(ann.quorum)}`);
    a.quorum = q;
  }
  if (ann.expires !== undefined) a.expiresAfterMs = duration('expires');
  const hasTo = ann.escalate_to !== undefined;
  const hasAfter = ann.escalate_after !== undefined;
  if (hasTo !== hasAfter) fail(hasTo ? 'escalate_to' : 'escalate_after', '@escalate_to and @escalate_after go together: give both or neither');
  if (hasTo) {
    a.escalateTo = group('escalate_to');
    a.escalateAfterMs = duration('escalate_after');
    if (a.expiresAfterMs !== undefined && a.escalateAfterMs >= a.expiresAfterMs) {
      fail('escalate_after', `@escalate_after (${ann.escalate_after}) must be shorter than @expires (${ann.expires})`);
    }
  }
  return a;
}

// ───────────────────────────── where each policy is ─────────────────────────────

interface Statement {
  /** Char offset of the statement's first code in the file. */
  start: number;
  /** From its first code to its `;` inclusive. */
  text: string;
  /** `text` with comment and string contents blanked (same length), for finding annotations. */
  masked: string;
}

/**
 * The file's statements in source order. cedar-wasm parses a file into its policies' texts
 * (policySetTextToParts), but returns them sorted by the ids it generates ("policy10" before "policy2")
 * and without offsets, and neither policyToJson nor validate says where a valid policy is. Airlock needs
 * the source order (a policy without @id is `<file>:<index>`, and the version hashes policies in load
 * order) and each policy's position (the line of every load error, readiness links), so this scans for
 * them: a statement ends at a `;` outside strings and `//` comments, Cedar's only comment form.
 * `agreeWithCedar` then holds the scan to Cedar's own split.
 */
function scanStatements(text: string): Statement[] {
  const masked = text.split('');
  const out: Statement[] = [];
  let from = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\') masked[i++] = ' ';
        if (i < n && text[i] !== '\n') masked[i] = ' ';
        i++;
      }
      i++;
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') masked[i++] = ' ';
    } else {
      if (ch === ';') {
        const chunk = masked.slice(from, i + 1).join('');
        const lead = /\S/.exec(chunk)?.index ?? 0;
        out.push({ start: from + lead, text: text.slice(from + lead, i + 1), masked: chunk.slice(lead) });
        from = i + 1;
      }
      i++;
    }
  }
  return out;
}

/** The scan must find exactly the policies (and templates, refused later) Cedar parsed, text for text. */
function agreeWithCedar(path: string, text: string, statements: Statement[]): void {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure')
    throwLocated(
      parts.errors.map((e) => locateIn(path, text, e)),
      'syntax error',
    );
  const cedarTexts = [...parts.policies, ...parts.policy_templates].sort();
  const scanned = statements.map((s) => s.text).sort();
  if (cedarTexts.length !== scanned.length || cedarTexts.some((t, i) => t !== scanned[i]))
    throw new PolicyError(`cannot locate the policies of this file: Cedar reads ${cedarTexts.length}, Airlock's scan finds ${scanned.length} or different texts`, path);
}
