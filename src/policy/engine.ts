/*
 * Airlock's policy-as-code engine, on Cedar (@cedar-policy/cedar-wasm, Node build). Pure: no I/O but
 * reading the policy directory in `load`, no Temporal, no clock (the caller passes `now`).
 *
 * ── Files ────────────────────────────────────────────────────────────────────────────────────────
 * A policy directory holds `schema.cedarschema` (Cedar's human schema format) and `*.cedar` policy
 * files, read in sorted order. At load every file is parsed and every policy is validated against the
 * schema in Cedar's strict mode; any problem is a `PolicyError` naming the file and the line (Cedar's
 * byte offsets are mapped back to the file the policy came from). A policy's id is its `@id("...")`
 * annotation, else `<file>:<index>` (0-based within the file); ids must be unique. Templates are rejected.
 *
 * ── Entities, actions, context (namespace `Airlock`) ─────────────────────────────────────────────
 *   principal  Airlock::User::"<id>" (kind 'user') or Airlock::ServiceAccount::"<id>" (kind 'service'),
 *              attrs: groups: Set<String>, onBehalfOf: String (only when given; declare it `onBehalfOf?`)
 *   action     Airlock::Action::"<server>.<tool>", e.g. Airlock::Action::"billing.issue_refund". Each tool
 *              is an action declared in the schema (it may be `in` action groups such as "read"/"write").
 *              A tool not declared (or declared without `appliesTo`) is denied: 'tool not declared in the
 *              policy schema' — fail closed.
 *   resource   Airlock::Tool::"<server>.<tool>", attrs: server, name, classification: String;
 *              readOnly, destructive, idempotent: Bool
 *   context    agent: Airlock::Agent (entity with attr name: String), phase: String, runId: String,
 *              now: datetime, hourUtc: Long (0-23), weekdayUtc: String ("mon".."sun"), args: per action.
 * The schema decides which of these a policy can see: entity attributes and context fields that the
 * schema does not declare are dropped before Cedar sees the request. Because every policy is validated
 * against the schema, no policy can read an undeclared field, so dropping one never changes a decision.
 * Declaring something Airlock does not supply (or with another type) is a load error in schema.cedarschema.
 *
 * ── Args ─────────────────────────────────────────────────────────────────────────────────────────
 * `context.args` is typed per action in the schema. JSON args are converted by their declared type:
 *   String ← string · Bool ← boolean · Long ← integer number (a fraction is an error) · Set<T> ← array
 *   decimal ← number or numeric string, exactly: 500.01 becomes {"__extn":{"fn":"decimal","arg":"500.01"}}.
 *     JS numbers are printed shortest-round-trip (so the JSON literal 500.01 stays "500.01"); more than 4
 *     fractional digits (Cedar's decimal precision), exponent forms and values outside Cedar's range are
 *     errors, never rounded. Policies compare with decimal methods: amount.lessThanOrEqual(decimal("500.00")).
 *   datetime / duration / ipaddr ← string (Cedar checks the format) · entity type T ← string id · record ← object.
 * Undeclared arg fields are DROPPED (a tool may take fields no policy cares about). A declared field
 * that is missing (and not optional) or has the wrong type makes the call a DENY with the problem in
 * `errors` ("request does not fit the policy schema ...: args.amount ..."): fail closed.
 *
 * ── Outcomes ─────────────────────────────────────────────────────────────────────────────────────
 * Cedar's isAuthorized answers Allow/Deny plus the determining policies; Airlock maps it to three outcomes:
 *   Deny                                   → deny: determining forbid ids (+ their @reason), or
 *                                            'no policy permits <action> for <principal>'
 *   Allow, some determining permit has no @approval → allow (policyIds: those plain permits)
 *   Allow, every determining permit has @approval   → require_approval (policyIds: those permits)
 * Any evaluation error (an errored policy, a request the schema rejects, an exception) → deny with
 * `errors`: fail closed; `evaluate` never throws. Since Cedar reports every satisfied permit, a plain
 * permit for small refunds and an @approval permit for larger ones must have disjoint conditions,
 * otherwise the plain one wins.
 *
 * Approval annotations (on permit only; anything but @approval needs @approval):
 *   @approval("finance")         approver group                     @quorum("2")   distinct approvers (1-100, default 1)
 *   @expires("72h")              deadline from the request          @escalate_to("finance-leads") + @escalate_after("24h"):
 *                                                                   that group may also decide after the delay (both or neither)
 * Durations: <digits>(ms|s|m|h|d), > 0. If several approval policies determine a call, the strictest
 * requirement is used: the largest quorum; ties keep the first by policy id (string order). The
 * requirement is taken whole from that one policy, never merged. Other annotations: @id, @reason (shown
 * in deny reasons), @description. Any other annotation is a load error: a misspelt @aproval must not
 * silently turn an approval policy into a plain permit.
 *
 * ── Version ──────────────────────────────────────────────────────────────────────────────────────
 * `version` = first 16 hex chars of sha256 over the canonical policy set (each policy's id and Cedar's
 * JSON form of it, in load order) and the schema's JSON form. Editing a rule, an annotation or the schema
 * gives a new version; whitespace and comments do not.
 *
 * ── Speed ────────────────────────────────────────────────────────────────────────────────────────
 * Schema and policies are pre-parsed once into cedar-wasm's cache (preparseSchema/preparsePolicySet,
 * keyed by content hash) and each evaluate uses statefulIsAuthorized: ~0.15-0.25 ms a call, nearly all of it
 * inside Cedar (isAuthorized, which re-parses schema and policies, is ~10x slower). `benchmark()`
 * measures it. The cache is per thread and never evicted: one entry per distinct policy content loaded,
 * so reloading changed policies grows it slightly; reloading unchanged ones reuses the entry.
 *
 * ── Test hook ────────────────────────────────────────────────────────────────────────────────────
 * `engine.authorizeForTesting`, when set, is called instead of cedar-wasm's statefulIsAuthorized with the
 * exact call Airlock built. Tests use it to inject failures (throwing or answering 'failure') and check
 * that the engine fails closed. Production code never sets it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { DURATION_HINT, formatDuration, parseDuration } from '../core/duration.js';
import type { AuthorizationAnswer, DetailedError, StatefulAuthorizationCall } from '@cedar-policy/cedar-wasm/nodejs';

export type Phase = 'read-only' | 'gated' | 'autonomous';

export interface PolicyRequest {
  /** Who the run acts for. */
  principal: { kind: 'user' | 'service'; id: string; groups: string[]; onBehalfOf?: string };
  /** Agent name, e.g. 'refund-assistant'. */
  agent: string;
  phase: Phase;
  /** MCP server name, e.g. 'billing'. */
  server: string;
  /** Tool name on that server, e.g. 'issue_refund'. */
  tool: string;
  toolInfo: { readOnly: boolean; destructive: boolean; idempotent: boolean; classification: string };
  /** JSON args, already validated against the tool's input schema. */
  args: Record<string, unknown>;
  runId: string;
  /** ISO timestamp. */
  now: string;
}

export interface ApprovalRequirement {
  /** Approver group. */
  group: string;
  /** Distinct approvers needed, >= 1. */
  quorum: number;
  /** Overall deadline from the request. */
  expiresAfterMs?: number;
  /** Group that can also decide after escalateAfterMs. */
  escalateTo?: string;
  escalateAfterMs?: number;
}

export interface PolicyDecision {
  outcome: 'allow' | 'deny' | 'require_approval';
  /** Human readable; a deny names the policy id(s) or says 'no policy permits ...'. */
  reason: string;
  /** Determining policy ids (the @id annotation, else file:index), sorted. */
  policyIds: string[];
  /** Content hash of the policy set and schema the decision was made with. */
  policyVersion: string;
  /** Present iff outcome is require_approval. */
  approval?: ApprovalRequirement;
  /** Evaluation errors; when present the outcome is always deny (fail closed). */
  errors?: string[];
}

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

// ───────────────────────────── constants ─────────────────────────────

const NS = 'Airlock';
const USER = `${NS}::User`;
const SERVICE = `${NS}::ServiceAccount`;
const AGENT = `${NS}::Agent`;
const TOOL = `${NS}::Tool`;
const ACTION = `${NS}::Action`;
export const SCHEMA_FILE = 'schema.cedarschema';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const KNOWN_ANNOTATIONS = ['id', 'description', 'reason', 'approval', 'quorum', 'expires', 'escalate_to', 'escalate_after'];
const APPROVAL_DETAILS = ['quorum', 'expires', 'escalate_to', 'escalate_after'];
const MAX_QUORUM = 100;
/** Cedar decimals are i64 with 4 fractional digits. */
const DECIMAL_MAX = 9223372036854775807n;
const DECIMAL_MIN = -9223372036854775808n;

// ───────────────────────────── Cedar types, normalized ─────────────────────────────

type ExtName = 'decimal' | 'datetime' | 'duration' | 'ipaddr';
interface RecordT {
  kind: 'Record';
  attrs: Map<string, { type: CType; required: boolean }>;
}
type CType =
  | { kind: 'String' }
  | { kind: 'Long' }
  | { kind: 'Bool' }
  | { kind: 'Ext'; name: ExtName }
  | { kind: 'Set'; element: CType }
  | RecordT
  | { kind: 'Entity'; name: string };

const T = {
  String: { kind: 'String' } as CType,
  Long: { kind: 'Long' } as CType,
  Bool: { kind: 'Bool' } as CType,
  SetOfString: { kind: 'Set', element: { kind: 'String' } } as CType,
  datetime: { kind: 'Ext', name: 'datetime' } as CType,
  Agent: { kind: 'Entity', name: AGENT } as CType,
};

function typeName(t: CType): string {
  switch (t.kind) {
    case 'Ext':
      return t.name;
    case 'Set':
      return `Set<${typeName(t.element)}>`;
    case 'Entity':
      return t.name;
    case 'Record':
      return `{ ${[...t.attrs].map(([k, a]) => `${k}${a.required ? '' : '?'}: ${typeName(a.type)}`).join(', ')} }`;
    default:
      return t.kind;
  }
}

function sameType(a: CType, b: CType): boolean {
  return typeName(a) === typeName(b);
}

/** What Airlock supplies for each entity type: attribute → type, and whether it is always present. */
const SUPPLIED_ATTRS: Record<string, Record<string, { type: CType; always: boolean }>> = {
  [USER]: { groups: { type: T.SetOfString, always: true }, onBehalfOf: { type: T.String, always: false } },
  [SERVICE]: { groups: { type: T.SetOfString, always: true }, onBehalfOf: { type: T.String, always: false } },
  [AGENT]: { name: { type: T.String, always: true } },
  [TOOL]: {
    server: { type: T.String, always: true },
    name: { type: T.String, always: true },
    readOnly: { type: T.Bool, always: true },
    destructive: { type: T.Bool, always: true },
    idempotent: { type: T.Bool, always: true },
    classification: { type: T.String, always: true },
  },
};
/** Context fields Airlock supplies besides `args`. */
const BASE_CONTEXT: Record<string, CType> = {
  agent: T.Agent,
  phase: T.String,
  runId: T.String,
  now: T.datetime,
  hourUtc: T.Long,
  weekdayUtc: T.String,
};

// ───────────────────────────── internal model ─────────────────────────────

interface ActionInfo {
  principalTypes: Set<string>;
  context: RecordT;
}

interface PolicyMeta {
  id: string;
  effect: 'permit' | 'forbid';
  file: string;
  line: number;
  reason?: string;
  approval?: ApprovalRequirement;
}

interface Located {
  file: string;
  line?: number;
  message: string;
}

class ArgsError extends Error {}

// ───────────────────────────── the engine ─────────────────────────────

export class PolicyEngine {
  /** Content hash of the policy set and schema (16 hex chars). */
  readonly version: string;
  /** Cedar validation warnings (not errors), located. */
  readonly warnings: string[];
  /** Policy ids in load order. */
  readonly policyIds: string[];
  /**
   * Test-only hook: when set, called instead of cedar-wasm's statefulIsAuthorized with the call the
   * engine built. Used to inject failures and check that the engine fails closed. Never set in production.
   */
  authorizeForTesting?: (call: StatefulAuthorizationCall) => AuthorizationAnswer;

  private constructor(
    private readonly cacheKey: string,
    version: string,
    private readonly actions: Map<string, ActionInfo>,
    private readonly shapes: Map<string, RecordT>,
    private readonly policies: Map<string, PolicyMeta>,
    warnings: string[],
  ) {
    this.version = version;
    this.warnings = warnings;
    this.policyIds = [...policies.keys()];
  }

  /** cedar-wasm's Cedar version, for diagnostics. */
  static cedarVersion(): string {
    return cedar.getCedarVersion();
  }

  /** Reads, parses and validates `dir`; any problem is a PolicyError naming the file and line. */
  static load(dir: string): PolicyEngine {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new PolicyError('policy directory not found', dir);
    const schemaPath = join(dir, SCHEMA_FILE);
    if (!existsSync(schemaPath)) throw new PolicyError(`schema file not found: the policy directory needs ${SCHEMA_FILE}`, schemaPath);
    const schemaText = stripBom(readFileSync(schemaPath, 'utf8'));
    const { actions, shapes, canonical: schemaCanonical } = loadSchema(schemaPath, schemaText);

    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cedar') && statSync(join(dir, f)).isFile())
      .sort();
    if (files.length === 0) throw new PolicyError('no policy files (*.cedar) in the policy directory', dir);

    const texts: Record<string, string> = {};
    const metas = new Map<string, PolicyMeta>();
    const where = new Map<string, { path: string; fileText: string; start: number; text: string }>();
    const hash = createHash('sha256').update('airlock-policy-set/v1\n');
    for (const f of files) {
      const path = join(dir, f);
      const fileText = stripBom(readFileSync(path, 'utf8'));
      for (const p of loadPolicyFile(path, f, fileText)) {
        const prev = metas.get(p.meta.id);
        if (prev) throw new PolicyError(`duplicate policy id "${p.meta.id}" (also ${prev.file}:${prev.line})`, path, p.meta.line);
        metas.set(p.meta.id, p.meta);
        texts[p.meta.id] = p.text;
        where.set(p.meta.id, { path, fileText, start: p.start, text: p.text });
        hash.update(`${JSON.stringify(p.meta.id)}\n${p.canonical}\n`);
      }
    }
    if (metas.size === 0) throw new PolicyError('the policy files contain no policies', join(dir, files[0]));

    // Strict validation against the schema; errors are located in the policy's own file.
    const v = cedar.validate({ schema: schemaText, policies: { staticPolicies: texts }, validationSettings: { mode: 'strict' } });
    if (v.type === 'failure') throw new PolicyError(`validation failed: ${v.errors.map(errorText).join('; ')}`, schemaPath);
    const locate = (policyId: string, e: DetailedError): Located => {
      const w = where.get(policyId);
      if (!w) return { file: schemaPath, message: errorText(e) };
      const off = e.sourceLocations?.[0]?.start;
      const line = off === undefined ? metas.get(policyId)!.line : lineAt(w.fileText, w.start + charIndex(w.text, off));
      return { file: w.path, line, message: errorText(e) };
    };
    if (v.validationErrors.length > 0) throwLocated(v.validationErrors.map((x) => locate(x.policyId, x.error)), 'policy does not validate against the schema');
    const warnings = [
      ...v.validationWarnings.map((x) => located(locate(x.policyId, x.error))),
      ...v.otherWarnings.map((e) => errorText(e)),
    ];

    hash.update(`schema\n${schemaCanonical}\n`);
    const full = hash.digest('hex');
    const cacheKey = `airlock-${full}`;
    const ps = cedar.preparseSchema(cacheKey, schemaText);
    if (ps.type === 'failure') throw new PolicyError(`schema: ${ps.errors.map(errorText).join('; ')}`, schemaPath);
    const pp = cedar.preparsePolicySet(cacheKey, { staticPolicies: texts });
    if (pp.type === 'failure') throw new PolicyError(`policies: ${pp.errors.map(errorText).join('; ')}`, dir);
    return new PolicyEngine(cacheKey, full.slice(0, 16), actions, shapes, metas, warnings);
  }

  /** The decision for one tool call. Never throws: any internal error is a deny with `errors`. */
  evaluate(req: PolicyRequest): PolicyDecision {
    try {
      return this.decide(req);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      return this.deny(`policy engine error: ${msg}`, [], [msg]);
    }
  }

  /** Ad hoc speed check: evaluates `req` `iterations` times; returns the mean time per call. */
  benchmark(req: PolicyRequest, iterations = 1000): { iterations: number; totalMs: number; perCallMs: number } {
    this.evaluate(req); // warm up
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) this.evaluate(req);
    const totalMs = performance.now() - t0;
    return { iterations, totalMs, perCallMs: totalMs / iterations };
  }

  private deny(reason: string, policyIds: string[], errors?: string[]): PolicyDecision {
    return { outcome: 'deny', reason, policyIds, policyVersion: this.version, ...(errors && errors.length > 0 ? { errors } : {}) };
  }

  private decide(req: PolicyRequest): PolicyDecision {
    const actionId = `${req.server}.${req.tool}`;
    const action = this.actions.get(actionId);
    if (!action) return this.deny(`tool not declared in the policy schema: ${actionId}`, []);

    const principalType = req.principal.kind === 'user' ? USER : req.principal.kind === 'service' ? SERVICE : undefined;
    if (!principalType) throw new Error(`unknown principal kind ${JSON.stringify(req.principal.kind)}`);
    const principalRef = `${principalType}::${JSON.stringify(req.principal.id)}`;
    if (!action.principalTypes.has(principalType)) {
      return this.deny(`the policy schema does not allow ${principalType} principals to call ${actionId}`, []);
    }

    let call: StatefulAuthorizationCall;
    try {
      call = this.buildCall(req, actionId, principalType, action);
    } catch (err) {
      if (!(err instanceof ArgsError)) throw err;
      return this.deny(`request does not fit the policy schema for ${actionId}: ${err.message}`, [], [err.message]);
    }

    const answer = this.authorizeForTesting ? this.authorizeForTesting(call) : cedar.statefulIsAuthorized(call);
    if (answer.type === 'failure') {
      const errors = answer.errors.map(errorText);
      return this.deny(`policy evaluation failed for ${actionId}: ${errors.join('; ')}`, [], errors);
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      const errors = diagnostics.errors.map((e) => `policy ${e.policyId}: ${errorText(e.error)}`);
      return this.deny(`policy evaluation error (fail closed): ${errors.join('; ')}`, [...new Set(diagnostics.errors.map((e) => e.policyId))].sort(), errors);
    }
    const ids = [...diagnostics.reason].sort();
    if (decision !== 'allow') {
      if (ids.length === 0) return this.deny(`no policy permits ${actionId} for ${principalRef}`, []);
      const why = ids
        .map((id) => this.policies.get(id)?.reason)
        .filter((r): r is string => !!r)
        .join('; ');
      return this.deny(`denied by ${ids.length > 1 ? 'policies' : 'policy'} ${ids.join(', ')}${why ? `: ${why}` : ''}`, ids);
    }

    const plain = ids.filter((id) => !this.policies.get(id)?.approval);
    if (plain.length > 0) {
      return { outcome: 'allow', reason: `permitted by ${plain.length > 1 ? 'policies' : 'policy'} ${plain.join(', ')}`, policyIds: plain, policyVersion: this.version };
    }
    if (ids.length === 0) throw new Error('Cedar allowed without a determining policy');
    // Every determining permit needs approval: the strictest wins (largest quorum; ties: first by id).
    let chosen = this.policies.get(ids[0])!;
    for (const id of ids.slice(1)) {
      const m = this.policies.get(id)!;
      if (m.approval!.quorum > chosen.approval!.quorum) chosen = m;
    }
    const a = chosen.approval!;
    return {
      outcome: 'require_approval',
      reason:
        `${actionId} needs approval by ${a.quorum === 1 ? 'a member' : `${a.quorum} distinct members`} of ${a.group}` +
        `${a.escalateTo ? ` (escalating to ${a.escalateTo} after ${formatDuration(a.escalateAfterMs!)})` : ''}` +
        `${a.expiresAfterMs !== undefined ? `, expiring after ${formatDuration(a.expiresAfterMs)}` : ''} (policy ${chosen.id})`,
      policyIds: ids,
      policyVersion: this.version,
      approval: { ...a },
    };
  }

  private buildCall(req: PolicyRequest, actionId: string, principalType: string, action: ActionInfo): StatefulAuthorizationCall {
    const nowMs = Date.parse(req.now);
    if (typeof req.now !== 'string' || Number.isNaN(nowMs)) throw new Error(`now is not an ISO timestamp: ${JSON.stringify(req.now)}`);
    const now = new Date(nowMs);
    const agentUid = { type: AGENT, id: req.agent };
    const toolUid = { type: TOOL, id: actionId };
    const principalUid = { type: principalType, id: req.principal.id };

    const principalAttrs: Record<string, unknown> = { groups: [...new Set(req.principal.groups)] };
    if (req.principal.onBehalfOf !== undefined) principalAttrs.onBehalfOf = req.principal.onBehalfOf;
    const toolAttrs = {
      server: req.server,
      name: req.tool,
      readOnly: req.toolInfo.readOnly,
      destructive: req.toolInfo.destructive,
      idempotent: req.toolInfo.idempotent,
      classification: req.toolInfo.classification,
    };
    const context: Record<string, unknown> = {
      agent: { __entity: agentUid },
      phase: req.phase,
      runId: req.runId,
      now: { __extn: { fn: 'datetime', arg: now.toISOString() } },
      hourUtc: now.getUTCHours(),
      weekdayUtc: WEEKDAYS[now.getUTCDay()],
      args: req.args,
    };
    return {
      principal: principalUid,
      action: { type: ACTION, id: actionId },
      resource: toolUid,
      context: conformBase(context, action.context),
      entities: [
        { uid: principalUid, attrs: conformAttrs(principalAttrs, this.shapes.get(principalType), `principal`), parents: [] },
        { uid: agentUid, attrs: conformAttrs({ name: req.agent }, this.shapes.get(AGENT), 'agent'), parents: [] },
        { uid: toolUid, attrs: conformAttrs(toolAttrs, this.shapes.get(TOOL), 'tool'), parents: [] },
      ],
      preparsedSchemaName: this.cacheKey,
      preparsedPolicySetId: this.cacheKey,
      validateRequest: true,
    };
  }
}

// ───────────────────────────── request conversion ─────────────────────────────

type CedarJson = cedar.CedarValueJson;

/** Context: the base fields are pre-encoded (their types were checked at load); args are converted. */
function conformBase(ctx: Record<string, unknown>, shape: RecordT): Record<string, CedarJson> {
  const out: Record<string, CedarJson> = {};
  for (const [k, a] of shape.attrs) {
    if (k === 'args') out.args = toCedar(ctx.args ?? {}, a.type, 'args');
    else out[k] = ctx[k] as CedarJson;
  }
  return out;
}

function conformAttrs(attrs: Record<string, unknown>, shape: RecordT | undefined, what: string): Record<string, CedarJson> {
  if (!shape) return {};
  return toCedar(attrs, shape, what) as Record<string, CedarJson>;
}

/** JSON → Cedar JSON by declared type; undeclared record fields are dropped; mismatches throw ArgsError. */
function toCedar(v: unknown, t: CType, path: string): CedarJson {
  const bad = (want: string): never => {
    throw new ArgsError(`${path} must be ${want}, got ${describe(v)}`);
  };
  switch (t.kind) {
    case 'String':
      return typeof v === 'string' ? v : bad('a string');
    case 'Bool':
      return typeof v === 'boolean' ? v : bad('a boolean');
    case 'Long':
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : bad('an integer (Long)');
    case 'Ext':
      if (t.name === 'decimal') return { __extn: { fn: 'decimal', arg: toDecimalString(v, path) } };
      if (typeof v !== 'string') bad(`a ${t.name} string`);
      return { __extn: { fn: t.name === 'ipaddr' ? 'ip' : t.name, arg: v as string } };
    case 'Entity':
      return typeof v === 'string' ? { __entity: { type: t.name, id: v } } : bad(`an id of ${t.name}`);
    case 'Set':
      if (!Array.isArray(v)) bad('an array');
      return (v as unknown[]).map((x, i) => toCedar(x, t.element, `${path}[${i}]`));
    case 'Record': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('an object');
      const o = v as Record<string, unknown>;
      const out: Record<string, CedarJson> = {};
      for (const [k, a] of t.attrs) {
        const x = Object.hasOwn(o, k) ? o[k] : undefined;
        if (x === undefined || x === null) {
          if (a.required) throw new ArgsError(`${path}.${k} is required by the policy schema`);
          continue;
        }
        out[k] = toCedar(x, a.type, `${path}.${k}`);
      }
      return out;
    }
  }
}

/**
 * The exact Cedar decimal literal for a JSON number or numeric string: "500.01", "500.0".
 * Throws ArgsError past 4 fractional digits, for exponent forms, non-finite numbers and out-of-range values.
 */
export function toDecimalString(v: unknown, path = 'value'): string {
  let s: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ArgsError(`${path} must be a finite number, got ${v}`);
    s = String(v);
  } else if (typeof v === 'string') s = v.trim();
  else throw new ArgsError(`${path} must be a decimal number, got ${describe(v)}`);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new ArgsError(`${path} is not a plain decimal number: ${JSON.stringify(s)} (at most 4 fractional digits)`);
  const [, sign, int, frac = ''] = m;
  const fracTrim = frac.replace(/0+$/, '');
  if (fracTrim.length > 4) throw new ArgsError(`${path} has more than 4 fractional digits (Cedar decimal precision): ${s}`);
  const scaled = BigInt(`${sign}${int}${fracTrim.padEnd(4, '0')}`);
  if (scaled > DECIMAL_MAX || scaled < DECIMAL_MIN) throw new ArgsError(`${path} is out of Cedar's decimal range: ${s}`);
  const intNorm = int.replace(/^0+(?=\d)/, '');
  return `${sign && scaled !== 0n ? '-' : ''}${intNorm}.${fracTrim || '0'}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `a ${typeof v}`;
}

// ───────────────────────────── schema loading ─────────────────────────────

interface SchemaJsonType {
  type: string;
  name?: string;
  element?: SchemaJsonType;
  attributes?: Record<string, SchemaJsonType & { required?: boolean }>;
}

function loadSchema(path: string, text: string): { actions: Map<string, ActionInfo>; shapes: Map<string, RecordT>; canonical: string } {
  const parsed = cedar.checkParseSchema(text);
  if (parsed.type === 'failure') throwLocated(parsed.errors.map((e) => locateIn(path, text, e)), 'schema error');
  const resolved = cedar.schemaToJsonWithResolvedTypes(text);
  if (resolved.type === 'failure') throwLocated(resolved.errors.map((e) => locateIn(path, text, e)), 'schema error');
  const plain = cedar.schemaToJson(text);
  const canonical = plain.type === 'success' ? JSON.stringify(plain.json) : text;
  const json = resolved.json as unknown as Record<string, { commonTypes?: Record<string, SchemaJsonType>; entityTypes?: Record<string, { shape?: SchemaJsonType; enum?: string[] }>; actions?: Record<string, { appliesTo?: { principalTypes?: string[]; resourceTypes?: string[]; context?: SchemaJsonType } }> }>;
  const ns = json[NS];
  if (!ns) throw new PolicyError(`the schema must declare \`namespace ${NS} { ... }\``, path);

  const common = new Map<string, SchemaJsonType>();
  for (const [n, def] of Object.entries(json)) {
    for (const [c, t] of Object.entries(def.commonTypes ?? {})) common.set(n ? `${n}::${c}` : c, t);
  }
  const fail = (message: string, pattern?: RegExp, then?: RegExp): never => {
    throw new PolicyError(message, path, pattern ? findLine(text, pattern, then) : undefined);
  };
  const norm = (t: SchemaJsonType, where: string, depth = 0): CType => {
    if (depth > 64) fail(`type of ${where} nests too deeply (recursive common type?)`);
    switch (t.type) {
      case 'Record': {
        const attrs = new Map<string, { type: CType; required: boolean }>();
        for (const [k, a] of Object.entries(t.attributes ?? {})) attrs.set(k, { type: norm(a, `${where}.${k}`, depth + 1), required: a.required !== false });
        return { kind: 'Record', attrs };
      }
      case 'Set':
        return { kind: 'Set', element: norm(t.element!, `${where}[]`, depth + 1) };
      case 'Entity':
        return { kind: 'Entity', name: t.name! };
      case 'Extension':
        return builtin(t.name!) ?? fail(`unknown extension type ${t.name} in ${where}`);
      case 'EntityOrCommon':
        return norm({ type: t.name! }, where, depth + 1);
      default: {
        const name = t.type;
        if (!name.startsWith('__cedar::') && common.has(name)) return norm(common.get(name)!, where, depth + 1);
        const b = builtin(name.replace(/^__cedar::/, ''));
        if (b) return b;
        if (common.has(`${NS}::${name}`)) return norm(common.get(`${NS}::${name}`)!, where, depth + 1);
        return fail(`cannot resolve type ${name} in ${where}`);
      }
    }
  };

  // Entity types Airlock supplies: each must be declared, with only attributes Airlock supplies.
  const shapes = new Map<string, RecordT>();
  for (const [qualified, supplied] of Object.entries(SUPPLIED_ATTRS)) {
    const short = qualified.slice(NS.length + 2);
    const entityRe = new RegExp(`\\bentity\\b[^;{]*\\b${short}\\b`);
    const def = ns.entityTypes?.[short];
    if (!def) fail(`the schema must declare \`entity ${short}\` in namespace ${NS} (attributes Airlock can supply: ${Object.keys(supplied).join(', ')})`, /\bnamespace\s+Airlock\b/);
    if (def!.enum) fail(`entity ${short} must not be an enumerated entity type`, entityRe);
    const declared = def!.shape ? norm(def!.shape, `entity ${short}`) : undefined;
    if (declared && declared.kind !== 'Record') fail(`entity ${short}: its attributes must be a record`, entityRe);
    const shape: RecordT = (declared as RecordT | undefined) ?? { kind: 'Record', attrs: new Map() };
    for (const [attr, a] of shape.attrs) {
      const s = supplied[attr];
      const attrRe = new RegExp(`\\b${escapeRe(attr)}\\s*\\??\\s*:`);
      if (!s) fail(`entity ${short} declares attribute ${attr}, which Airlock does not supply (it supplies: ${Object.keys(supplied).join(', ')})`, entityRe, attrRe);
      if (!sameType(a.type, s!.type)) fail(`entity ${short} attribute ${attr} must have type ${typeName(s!.type)}, not ${typeName(a.type)}`, entityRe, attrRe);
      if (a.required && !s!.always) fail(`entity ${short} attribute ${attr} is not always supplied: declare it optional (${attr}?)`, entityRe, attrRe);
    }
    shapes.set(qualified, shape);
  }

  // Actions: every action with appliesTo is a tool Airlock may ask about.
  const actions = new Map<string, ActionInfo>();
  for (const [name, def] of Object.entries(ns.actions ?? {})) {
    const applies = def.appliesTo;
    if (!applies || (applies.principalTypes ?? []).length === 0 || (applies.resourceTypes ?? []).length === 0) continue; // an action group
    const actionRe = new RegExp(`\\baction\\b[^;]*?("${escapeRe(name)}"|\\b${escapeRe(name)}\\b)`);
    for (const p of applies.principalTypes ?? []) {
      if (p !== USER && p !== SERVICE) fail(`action "${name}": principals must be User and/or ServiceAccount, not ${p}`, actionRe);
    }
    if (!(applies.resourceTypes ?? []).includes(TOOL)) fail(`action "${name}": the resource must be Tool`, actionRe);
    const ctx = applies.context ? norm(applies.context, `context of action "${name}"`) : ({ kind: 'Record', attrs: new Map() } as RecordT);
    if (ctx.kind !== 'Record') fail(`action "${name}": context must be a record`, actionRe);
    for (const [k, a] of (ctx as RecordT).attrs) {
      const fieldRe = new RegExp(`\\b${escapeRe(k)}\\s*\\??\\s*:`);
      if (k === 'args') {
        if (a.type.kind !== 'Record') fail(`action "${name}": context.args must be a record type, not ${typeName(a.type)}`, actionRe, fieldRe);
        continue;
      }
      const want = BASE_CONTEXT[k];
      if (!want) fail(`action "${name}": context field ${k} is not supplied by Airlock (it supplies: ${[...Object.keys(BASE_CONTEXT), 'args'].join(', ')})`, actionRe, fieldRe);
      if (!sameType(a.type, want!)) fail(`action "${name}": context.${k} must have type ${typeName(want!)}, not ${typeName(a.type)}`, actionRe, fieldRe);
    }
    actions.set(name, { principalTypes: new Set(applies.principalTypes), context: ctx as RecordT });
  }
  return { actions, shapes, canonical };
}

function builtin(name: string): CType | undefined {
  switch (name) {
    case 'String':
      return T.String;
    case 'Long':
      return T.Long;
    case 'Bool':
    case 'Boolean':
      return T.Bool;
    case 'decimal':
    case 'datetime':
    case 'duration':
    case 'ipaddr':
      return { kind: 'Ext', name };
    default:
      return undefined;
  }
}

// ───────────────────────────── policy files ─────────────────────────────

interface LoadedPolicy {
  meta: PolicyMeta;
  /** The policy's source text (from just after the previous `;` to its own `;`). */
  text: string;
  /** Char offset of `text` in the file. */
  start: number;
  canonical: string;
}

function loadPolicyFile(path: string, fileName: string, text: string): LoadedPolicy[] {
  // Whole-file parse first: syntax errors are located in the file as Cedar sees it.
  const whole = cedar.checkParsePolicySet({ staticPolicies: text });
  const wholeErrors = whole.type === 'failure' ? whole.errors : [];
  if (wholeErrors.some((e) => e.sourceLocations?.length)) throwLocated(wholeErrors.map((e) => locateIn(path, text, e)), 'syntax error');

  const out: LoadedPolicy[] = [];
  const { chunks } = splitPolicies(text);
  chunks.forEach((c, index) => {
    const lineOf = (charInChunk: number) => lineAt(text, c.start + charInChunk);
    const j = cedar.policyToJson(c.text);
    if (j.type === 'failure') {
      throwLocated(
        j.errors.map((e) => {
          const off = e.sourceLocations?.[0]?.start;
          return { file: path, line: lineOf(off === undefined ? firstCode(c.masked) : charIndex(c.text, off)), message: errorText(e) };
        }),
        'policy error',
      );
    }
    const json = (j as Extract<typeof j, { type: 'success' }>).json;
    const ann = (json.annotations ?? {}) as Record<string, string | null>;
    const annLine = (name: string) => {
      const m = new RegExp(`@\\s*${escapeRe(name)}\\b`).exec(c.masked);
      return lineOf(m ? m.index : firstCode(c.masked));
    };
    const fail = (name: string, message: string): never => {
      throw new PolicyError(message, path, annLine(name));
    };
    for (const [k, val] of Object.entries(ann)) {
      if (!KNOWN_ANNOTATIONS.includes(k)) fail(k, `unknown annotation @${k} (known: ${KNOWN_ANNOTATIONS.map((a) => `@${a}`).join(', ')})`);
      if (typeof val !== 'string') fail(k, `annotation @${k} needs a value, e.g. @${k}("...")`);
    }
    const id = ann.id ?? `${fileName}:${index}`;
    if (ann.id !== undefined && !ann.id!.trim()) fail('id', '@id must not be empty');
    const meta: PolicyMeta = { id, effect: json.effect, file: path, line: lineOf(firstCode(c.masked)) };
    if (ann.reason) meta.reason = ann.reason;
    if (ann.approval !== undefined) {
      if (json.effect !== 'permit') fail('approval', '@approval is only meaningful on a permit policy');
      meta.approval = parseApproval(ann as Record<string, string>, fail);
    } else {
      for (const k of APPROVAL_DETAILS) if (ann[k] !== undefined) fail(k, `@${k} needs @approval("<group>") on the same policy`);
    }
    out.push({ meta, text: c.text, start: c.start, canonical: JSON.stringify(json) });
  });
  // Cedar rejected the file without saying where, yet each policy parses alone: report it unlocated.
  if (wholeErrors.length > 0) throw new PolicyError(wholeErrors.map(errorText).join('; '), path);
  return out;
}

function parseApproval(ann: Record<string, string>, fail: (name: string, message: string) => never): ApprovalRequirement {
  const group = (name: string): string => {
    const g = ann[name];
    if (!/^[^\s\x00-\x1f]+(?: [^\s\x00-\x1f]+)*$/.test(g)) fail(name, `@${name} must name a group, got ${JSON.stringify(g)}`);
    return g;
  };
  const duration = (name: string): number => {
    const v = ann[name];
    const ms = parseDuration(v);
    if (ms === undefined) fail(name, `@${name}: invalid duration ${JSON.stringify(v)} (expected ${DURATION_HINT})`);
    return ms!;
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

/**
 * Splits Cedar policy text at each top-level `;` (outside strings and `//` comments). Each chunk runs
 * from just after the previous `;` to its own `;` inclusive, so it carries its leading comments.
 * `masked` is the chunk with comment and string contents blanked (same length), for locating tokens.
 */
export function splitPolicies(text: string): { chunks: { start: number; text: string; masked: string }[] } {
  const masked = text.split('');
  const chunks: { start: number; text: string; masked: string }[] = [];
  let start = 0;
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
        chunks.push({ start, text: text.slice(start, i + 1), masked: masked.slice(start, i + 1).join('') });
        start = i + 1;
      }
      i++;
    }
  }
  return { chunks };
}

// ───────────────────────────── locations and messages ─────────────────────────────

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Cedar reports UTF-8 byte offsets; JS strings index UTF-16 units. */
function charIndex(text: string, byteOffset: number): number {
  return Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

/** 1-based line of a char offset. */
function lineAt(text: string, charOffset: number): number {
  let line = 1;
  for (let i = 0; i < charOffset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function firstCode(masked: string): number {
  const m = /\S/.exec(masked);
  return m ? m.index : 0;
}

/** Line of `re`'s match (of its last char: the name it ends on); with `then`, of `then`'s first match after it. */
function findLine(text: string, re: RegExp, then?: RegExp): number | undefined {
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

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function errorText(e: DetailedError): string {
  return e.help ? `${e.message} (${e.help})` : e.message;
}

function locateIn(file: string, text: string, e: DetailedError): Located {
  const off = e.sourceLocations?.[0]?.start;
  return { file, line: off === undefined ? undefined : lineAt(text, charIndex(text, off)), message: errorText(e) };
}

function located(l: Located): string {
  return `${l.file}${l.line !== undefined ? `:${l.line}` : ''}: ${l.message}`;
}

/** Throws the first problem (in file, then line order) as a PolicyError; the others follow in the message. */
function throwLocated(all: Located[], fallback: string): never {
  if (all.length === 0) throw new PolicyError(fallback, '<unknown>');
  const sorted = [...all].sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1));
  const [first, ...rest] = sorted;
  const more = rest.length > 0 ? `\n${rest.map(located).join('\n')}` : '';
  throw new PolicyError(`${first.message}${more}`, first.file, first.line);
}
