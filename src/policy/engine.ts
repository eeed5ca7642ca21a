/*
 * Airlock's policy-as-code engine, on Cedar (@cedar-policy/cedar-wasm, Node build). Pure: no I/O but
 * reading the policy directory in `load`, no Temporal, no clock (the caller passes `now`).
 *
 * ── Files ────────────────────────────────────────────────────────────────────────────────────────
 * A policy directory holds `schema.cedarschema` (Cedar's human schema format, checked in schema.ts) and
 * `*.cedar` policy files (files.ts), read in sorted order. An entry of either kind that is not a readable file
 * (a directory, a dangling symlink, a symlink loop, no read permission) fails the whole load (directory.ts):
 * a set never has fewer policies than the directory holds. At load every file is parsed and every policy is
 * validated against the schema in Cedar's strict mode; any problem is a `PolicyError` naming the file and
 * the line (Cedar's byte offsets are mapped back to the file the policy came from). A policy's id is its
 * `@id("...")` annotation, else `<file>:<index>` (0-based within the file); ids must be unique. Templates are rejected.
 *
 * ── Entities, actions, context (namespace `Airlock`) ─────────────────────────────────────────────
 *   principal  Airlock::User::"<id>" (kind 'user') or Airlock::ServiceAccount::"<id>" (kind 'service'),
 *              attrs: groups: Set<String>, onBehalfOf: String (only when given; declare it `onBehalfOf?`)
 *   action     Airlock::Action::"<server>.<tool>", e.g. Airlock::Action::"billing.issue_refund". Each tool
 *              is an action declared in the schema (it may be `in` action groups such as "read"/"write").
 *              A tool not declared (or declared without `appliesTo`) is denied: 'tool not declared in the
 *              policy schema' — fail closed.
 *   resource   Airlock::Tool::"<server>.<tool>", attrs: server, name, classification: String;
 *              readOnly, destructive, idempotent: Bool; level: Long (the classification's rank, public 0 …
 *              restricted 3: an unknown classification denies); trust: String (`trusted` | `untrusted`, the catalog's)
 *   context    agent: Airlock::Agent (entity with attr name: String), phase: String, runId: String,
 *              now: datetime, hourUtc: Long (0-23), weekdayUtc: String ("mon".."sun"), args: per action,
 *              edit: the args as first proposed (while an approver's edit is decided), facts: a record of what
 *              the run learned earlier, as its agent declares (`agents.<name>.facts`; always present, each fact
 *              only when its step ran: declare them optional), labels: what the run has touched (core/labels.ts:
 *              classification: String, level: Long, servers: Set<String>, untrusted: Bool, untrustedSources:
 *              Set<String>, sensitive: Bool; declare any of them; a request without labels is a run that has
 *              touched nothing: public, 0, [], false, [], false).
 * The schema decides which of these a policy can see: entity attributes and context fields that the
 * schema does not declare are dropped before Cedar sees the request. Because every policy is validated
 * against the schema, no policy can read an undeclared field, so dropping one never changes a decision.
 * Declaring something Airlock does not supply (or with another type) is a load error in schema.cedarschema.
 * `context.args` is typed per action and converted from JSON by the declared type (args.ts: decimals are
 * exact, undeclared fields dropped); args that do not fit make the call a DENY with the problem in `errors`.
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
 * otherwise the plain one wins. The annotations (@approval, @quorum, @expires, @escalate_to,
 * @escalate_after, @id, @reason, @description) are described in files.ts. If several approval policies
 * determine a call, the strictest requirement is used: the largest quorum; ties keep the first by policy
 * id (string order). The requirement is taken whole from that one policy, never merged.
 * A deny or hold determined by a policy that reads `context.labels` ends with ` (run labels: <describeLabels>)`,
 * so a denial names the labels that caused it.
 *
 * ── Holds ────────────────────────────────────────────────────────────────────────────────────────
 * A forbid with @approval is a hold: the call it stops may still run if the permits allow it and a human
 * approves. If Cedar denies and every determining forbid is a hold, the call is evaluated again against the
 * set without the holds (preparsed at load as `<cacheKey>-unheld`, only when there are holds):
 *   that set allows, some permit plain       → require_approval with the strictest hold's requirement
 *   that set allows, every permit @approval  → require_approval with the permits' requirement (a human is asked already)
 *   policyIds: the holds and the determining permits; reason: 'held by policy <ids>: <@reason>; <who must approve>'
 *   that set denies, or fails               → deny as the first answer said (errors added): fail closed
 * A determining forbid without @approval is absolute: deny, whatever holds determine the call with it.
 *
 * ── Facts ────────────────────────────────────────────────────────────────────────────────────────
 * `policies` tells, for each policy in load order, its id, effect, file and line, annotations, the tools it
 * can apply to (Cedar resolves action groups against the schema) and the agents its conditions limit it to
 * (facts.ts); `toolActions` lists the tools the schema declares. They are computed once at load, so the
 * readiness report and other readers never parse the files again.
 *
 * ── Version ──────────────────────────────────────────────────────────────────────────────────────
 * `version` = first 16 hex chars of sha256 over the canonical policy set (each policy's id and Cedar's
 * JSON form of it, in load order) and the schema's JSON form. Editing a rule, an annotation or the schema
 * gives a new version; whitespace and comments do not.
 *
 * ── Speed ────────────────────────────────────────────────────────────────────────────────────────
 * Schema and policies are pre-parsed once into cedar-wasm's cache (preparseSchema/preparsePolicySet,
 * keyed by content hash) and each evaluate uses statefulIsAuthorized: ~0.15-0.25 ms a call, nearly all of it
 * inside Cedar (isAuthorized, which re-parses schema and policies, is ~10x slower; bench/governance.ts
 * measures it). The cache is per thread and never evicted: one entry per distinct policy content loaded,
 * so reloading changed policies grows it slightly; reloading unchanged ones reuses the entry.
 *
 * ── Authorizer ───────────────────────────────────────────────────────────────────────────────────
 * `load(dir, { authorize })` answers each call with `authorize` instead of cedar-wasm's statefulIsAuthorized,
 * given the exact call Airlock built. Tests inject failures with it (throwing, or answering 'failure') and
 * check that the engine fails closed.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { AuthorizationAnswer, CedarValueJson, StatefulAuthorizationCall } from '@cedar-policy/cedar-wasm/nodejs';
import { sha256Hex } from '../core/canonical.js';
import { ArgsError, conformAttrs, conformContext } from './args.js';
import { readPolicyDir } from './directory.js';
import { isHold, labelsUse, policyFacts, toolActionFacts } from './facts.js';
import { parsePolicyFile, type ParsedPolicy } from './files.js';
import { charIndex, errorText, lineAt, located, PolicyError, throwLocated, type Located } from './location.js';
import { approvalSentence, labelsNote, levelOf, namedWithReasons, NO_LABELS, strictest } from './outcome.js';
import { ACTION, AGENT, loadSchema, SERVICE, TOOL, USER, type ActionInfo, type RecordT } from './schema.js';
import type { PolicyDecision, PolicyFacts, PolicyRequest, ToolActionFacts } from './types.js';

export { PolicyError } from './location.js';
export { SCHEMA_FILE } from './schema.js';
export { toDecimalString } from './args.js';
export type { ApprovalRequirement, Phase, PolicyDecision, PolicyFacts, PolicyRequest, ToolActionFacts } from './types.js';

/** Answers one authorization call: cedar-wasm's statefulIsAuthorized, unless `load` was given another. */
export type Authorizer = (call: StatefulAuthorizationCall) => AuthorizationAnswer;

export interface LoadOptions {
  /** Answers each call in place of cedar-wasm (tests inject failures with it); default: statefulIsAuthorized. */
  authorize?: Authorizer;
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export class PolicyEngine {
  /** Content hash of the policy set and schema (16 hex chars). */
  readonly version: string;
  /** Cedar validation warnings (not errors), located. */
  readonly warnings: string[];
  /** Policy ids in load order. */
  readonly policyIds: string[];
  /** What each policy is and can apply to, in load order. */
  readonly policies: readonly PolicyFacts[];
  /** The tools the schema declares (`server.tool`): the only actions a call can be allowed for. */
  readonly toolActions: ReadonlyMap<string, ToolActionFacts>;
  private readonly byId: ReadonlyMap<string, PolicyFacts>;
  /** Forbids with @approval: holds ("Holds" above). */
  private readonly holds: ReadonlySet<string>;

  private constructor(
    private readonly cacheKey: string,
    version: string,
    private readonly actions: Map<string, ActionInfo>,
    private readonly shapes: Map<string, RecordT>,
    policies: PolicyFacts[],
    warnings: string[],
    private readonly authorize: Authorizer,
    /** Policies whose conditions read `context.labels`: a reason they determine names the labels. */
    private readonly readLabels: ReadonlySet<string>,
  ) {
    this.version = version;
    this.warnings = warnings;
    this.policies = policies;
    this.byId = new Map(policies.map((p) => [p.id, p]));
    this.policyIds = policies.map((p) => p.id);
    this.toolActions = toolActionFacts(actions);
    this.holds = new Set(policies.filter(isHold).map((p) => p.id));
  }

  /** cedar-wasm's Cedar version, for diagnostics. */
  static cedarVersion(): string {
    return cedar.getCedarVersion();
  }

  /** Reads, parses and validates `dir`; any problem is a PolicyError naming the file and line. */
  static load(dir: string, opts: LoadOptions = {}): PolicyEngine {
    // Every *.cedar entry and the schema must be a readable file, or nothing loads (directory.ts).
    const { schema: schemaFile, policies: files } = readPolicyDir(dir);
    const schemaPath = schemaFile.path;
    const schemaText = schemaFile.text;
    const { actions, shapes, canonical: schemaCanonical, schema } = loadSchema(schemaPath, schemaText);

    const texts: Record<string, string> = {};
    const byId = new Map<string, ParsedPolicy & { fileText: string }>();
    let hashed = 'airlock-policy-set/v1\n';
    for (const { name: f, path, text: fileText } of files) {
      for (const p of parsePolicyFile(path, f, fileText)) {
        const prev = byId.get(p.id);
        if (prev) throw new PolicyError(`duplicate policy id "${p.id}" (also ${prev.file}:${prev.line})`, path, p.line);
        byId.set(p.id, { ...p, fileText });
        texts[p.id] = p.text;
        hashed += `${JSON.stringify(p.id)}\n${p.canonical}\n`;
      }
    }
    if (byId.size === 0) throw new PolicyError('the policy files contain no policies', files[0].path);

    // Strict validation against the schema; errors are located in the policy's own file.
    const v = cedar.validate({ schema: schemaText, policies: { staticPolicies: texts }, validationSettings: { mode: 'strict' } });
    if (v.type === 'failure') throw new PolicyError(`validation failed: ${v.errors.map(errorText).join('; ')}`, schemaPath);
    const locate = (policyId: string, e: cedar.DetailedError): Located => {
      const p = byId.get(policyId);
      if (!p) return { file: schemaPath, message: errorText(e) };
      const off = e.sourceLocations?.[0]?.start;
      const line = off === undefined ? p.line : lineAt(p.fileText, p.start + charIndex(p.text, off));
      return { file: p.file, line, message: errorText(e) };
    };
    if (v.validationErrors.length > 0)
      throwLocated(
        v.validationErrors.map((x) => locate(x.policyId, x.error)),
        'policy does not validate against the schema',
      );
    const warnings = [...v.validationWarnings.map((x) => located(locate(x.policyId, x.error))), ...v.otherWarnings.map((e) => errorText(e))];

    hashed += `schema\n${schemaCanonical}\n`;
    const full = sha256Hex(hashed);
    const cacheKey = `airlock-${full}`;
    const ps = cedar.preparseSchema(cacheKey, schemaText);
    if (ps.type === 'failure') throw new PolicyError(`schema: ${ps.errors.map(errorText).join('; ')}`, schemaPath);
    const pp = cedar.preparsePolicySet(cacheKey, { staticPolicies: texts });
    if (pp.type === 'failure') throw new PolicyError(`policies: ${pp.errors.map(errorText).join('; ')}`, dir);
    // The set without its holds, asked when only holds deny a call ("Holds").
    const holds = [...byId.values()].filter(isHold).map((p) => p.id);
    if (holds.length > 0) {
      const unheld = Object.fromEntries(Object.entries(texts).filter(([id]) => !holds.includes(id)));
      const up = cedar.preparsePolicySet(unheldKey(cacheKey), { staticPolicies: unheld });
      if (up.type === 'failure') throw new PolicyError(`policies without their holds: ${up.errors.map(errorText).join('; ')}`, dir);
    }
    const facts = policyFacts([...byId.values()], schema, actions);
    const readLabels = new Set([...byId.values()].filter((p) => labelsUse(p.json).reads).map((p) => p.id));
    return new PolicyEngine(cacheKey, full.slice(0, 16), actions, shapes, facts, warnings, opts.authorize ?? cedar.statefulIsAuthorized, readLabels);
  }

  /** The facts of one policy, by id. */
  policy(id: string): PolicyFacts | undefined {
    return this.byId.get(id);
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

    const answer = this.authorize(call);
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
    const labels = req.labels ?? NO_LABELS;
    if (decision !== 'allow') {
      if (ids.length === 0) return this.deny(`no policy permits ${actionId} for ${principalRef}`, []);
      const denied = this.deny(`denied by ${namedWithReasons(ids, this.byId)}${this.note(ids, labels)}`, ids);
      return ids.every((id) => this.holds.has(id)) ? this.lift(call, ids, actionId, labels, denied) : denied;
    }

    const plain = ids.filter((id) => !this.byId.get(id)?.approval);
    if (plain.length > 0) {
      return { outcome: 'allow', reason: `permitted by ${plain.length > 1 ? 'policies' : 'policy'} ${plain.join(', ')}`, policyIds: plain, policyVersion: this.version };
    }
    if (ids.length === 0) throw new Error('Cedar allowed without a determining policy');
    // Every determining permit needs approval: the strictest wins (largest quorum; ties: first by id).
    const chosen = strictest(ids.map((id) => this.byId.get(id)!));
    return { outcome: 'require_approval', reason: approvalSentence(actionId, chosen), policyIds: ids, policyVersion: this.version, approval: { ...chosen.approval! } };
  }

  /**
   * Only holds denied the call: asks the set without them. If its permits allow the call, it needs approval: the
   * permits' own requirement when they carry one, else the strictest hold's. Otherwise (no permit, an error) `denied`.
   */
  private lift(call: StatefulAuthorizationCall, holds: string[], actionId: string, labels: NonNullable<PolicyRequest['labels']>, denied: PolicyDecision): PolicyDecision {
    let answer: AuthorizationAnswer;
    try {
      answer = this.authorize({ ...call, preparsedPolicySetId: unheldKey(this.cacheKey) });
    } catch (err) {
      return { ...denied, errors: [`evaluation without the holds failed: ${err instanceof Error ? err.message : String(err)}`] };
    }
    if (answer.type === 'failure') return { ...denied, errors: answer.errors.map(errorText) };
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) return { ...denied, errors: diagnostics.errors.map((e) => `policy ${e.policyId}: ${errorText(e.error)}`) };
    const permits = [...diagnostics.reason].sort();
    if (decision !== 'allow' || permits.length === 0) return denied;
    const plain = permits.filter((id) => !this.byId.get(id)?.approval);
    // Permits that already ask a human keep their requirement; plain ones take the hold's.
    const chosen = strictest((plain.length > 0 ? holds : permits).map((id) => this.byId.get(id)!));
    const policyIds = [...new Set([...holds, ...(plain.length > 0 ? plain : permits)])].sort();
    return {
      outcome: 'require_approval',
      reason: `held by ${namedWithReasons(holds, this.byId)}; ${approvalSentence(actionId, chosen)}${this.note(policyIds, labels)}`,
      policyIds,
      policyVersion: this.version,
      approval: { ...chosen.approval! },
    };
  }

  /** The labels note of a reason that policies `ids` determined, when one of them reads `context.labels`. */
  private note(ids: readonly string[], labels: NonNullable<PolicyRequest['labels']>): string {
    return ids.some((id) => this.readLabels.has(id)) ? labelsNote(labels) : '';
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
    const toolShape = this.shapes.get(TOOL);
    const level = req.toolInfo.level ?? levelOf(req.toolInfo.classification);
    // A policy comparing levels must never see a guessed one: an unknown classification denies (fail closed).
    if (level === undefined && toolShape?.attrs.has('level'))
      throw new ArgsError(`tool classification ${JSON.stringify(req.toolInfo.classification)} is none of public, internal, confidential, restricted: its level is unknown`);
    const toolAttrs = {
      server: req.server,
      name: req.tool,
      readOnly: req.toolInfo.readOnly,
      destructive: req.toolInfo.destructive,
      idempotent: req.toolInfo.idempotent,
      classification: req.toolInfo.classification,
      level,
      trust: req.toolInfo.trust ?? 'trusted',
    };
    const context: Record<string, CedarValueJson> = {
      agent: { __entity: agentUid },
      phase: req.phase,
      runId: req.runId,
      now: { __extn: { fn: 'datetime', arg: now.toISOString() } },
      hourUtc: now.getUTCHours(),
      weekdayUtc: WEEKDAYS[now.getUTCDay()],
    };
    return {
      principal: principalUid,
      action: { type: ACTION, id: actionId },
      resource: toolUid,
      context: conformContext(context, action.context, { args: req.args, edit: req.edit, facts: req.facts, labels: req.labels ?? NO_LABELS }),
      entities: [
        { uid: principalUid, attrs: conformAttrs(principalAttrs, this.shapes.get(principalType), `principal`), parents: [] },
        { uid: agentUid, attrs: conformAttrs({ name: req.agent }, this.shapes.get(AGENT), 'agent'), parents: [] },
        { uid: toolUid, attrs: conformAttrs(toolAttrs, toolShape, 'tool'), parents: [] },
      ],
      preparsedSchemaName: this.cacheKey,
      preparsedPolicySetId: this.cacheKey,
      validateRequest: true,
    };
  }
}

/** The cache id of the policy set without its holds. */
const unheldKey = (cacheKey: string): string => `${cacheKey}-unheld`;
