/*
 * Governance readiness: the six questions enterprises ask before scaling agents, answered from the
 * live configuration, each answer linked to the config that makes it true, with the gaps flagged.
 *
 *   1 execution     which agents (workflows) are approved for execution, which are advisory only
 *   2 systems       which systems are exposed through MCP, and who certified each server
 *   3 identity      what identity each agent runs under, and how its authorization is scoped
 *   4 approvals     which actions require human approval
 *   5 controls      where tool calls are validated, logged and monitored
 *   6 independence  whether models, workflows and connectors can each change independently
 *
 * Inputs: the loaded config, the policy set (PolicyEngine or its load error), the registry lockfile
 * (pins: who certified what) and the runtime status file (quarantine / retire / re-approve). Callers
 * that hold live stores pass them in `deps`; otherwise they are read from disk. Nothing here throws
 * for a broken policy set, lockfile or status file: each becomes an error gap.
 *
 * A tool is a write when its pinned annotations do not say `readOnlyHint: true` (as activities/control.ts
 * decides). Which actions a policy applies to comes from Cedar itself (getValidRequestEnvsPolicy against the
 * schema, so action groups such as `action in Action::"read"` resolve); a policy whose `when` clause
 * requires `context.agent == Airlock::Agent::"x"` (as a top-level conjunct) applies to agent x only.
 *
 * Links: `{ file, line?, path }`. In YAML/JSON files `path` is the dotted key path and `line` the line of
 * that key (or of its nearest present ancestor, where a default applies); in Cedar files `path` is the
 * policy id and `line` the line of its `@id` annotation.
 */
import { auditPaths } from '../audit/index.js';
import { redactUrl } from '../audit/postgres.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { AirlockConfig } from '../config/load.js';
import { PolicyEngine, PolicyError, SCHEMA_FILE, splitPolicies } from '../policy/engine.js';
import { LockStore, type LockFile } from '../registry/lock.js';
import { registryStatusFile, StatusStore, type StatusEntry } from '../registry/status.js';

// ───────────────────────────── report shape ─────────────────────────────

export type QuestionId = 'execution' | 'systems' | 'identity' | 'approvals' | 'controls' | 'independence';
export type Severity = 'error' | 'warning';
export type GapCode =
  | 'policy-load-failed' // the policy set does not load: every tool call is denied
  | 'policy-warning' // Cedar validation warning
  | 'lockfile-unreadable' // the registry lockfile is invalid: every server fails closed
  | 'status-unreadable' // the runtime status file is invalid: every server is refused
  | 'server-no-owner' // no team is accountable for the server
  | 'server-not-pinned' // nobody certified the server's tool definitions
  | 'server-findings-overridden' // an admin accepted scanner findings when pinning
  | 'agent-server-unavailable' // an agent names a server that is not approved (proposed, quarantined, retired)
  | 'write-tool-ungoverned' // a write tool an executing agent can reach that no policy permits (so it is always denied)
  | 'autonomous-without-approval' // an autonomous agent with write tools and no approval rule for any of them
  | 'dev-issuer' // tokens come from the embedded demo issuer
  | 'monitoring-off' // no /metrics and no OTLP export
  | 'pins-not-required'; // registry.requirePins is off: unpinned and drifted servers are called anyway

export interface ReadinessLink {
  file: string;
  line?: number;
  path: string;
  /** The key is absent, so its default applies; `line` (if any) is its nearest present ancestor. */
  defaulted?: true;
}

export interface ReadinessGap {
  severity: Severity;
  code: GapCode;
  message: string;
  link: ReadinessLink;
}

export interface ReadinessAnswer {
  id: QuestionId;
  question: string;
  answer: string;
  details: Record<string, unknown>;
  links: ReadinessLink[];
  gaps: ReadinessGap[];
}

export interface ReadinessReport {
  generatedAt: string;
  configFile: string;
  policyVersion: string | null;
  questions: ReadinessAnswer[];
  /** Every question's gaps, errors first. */
  gaps: ReadinessGap[];
  /** No error-severity gap. */
  ok: boolean;
}

type StatusFile = Exclude<ReturnType<StatusStore['current']>, Error>;

export interface ReadinessDeps {
  /** The policy set new decisions use, or its load error (default: PolicyEngine.load(config.policy.dir)). */
  policy?: PolicyEngine | Error;
  /** The registry pins (default: read config.registry.lockFile). */
  lock?: LockFile | Error;
  /** Runtime status decisions (default: read registry-status.json in the data dir). */
  status?: StatusFile | Error;
  now?: Date;
}

export const QUESTIONS: Record<QuestionId, string> = {
  execution: 'Which workflows are approved for execution, and which are advisory only?',
  systems: 'Which systems are exposed through MCP, and who certified each server?',
  identity: 'What identity does each agent run under, and how is its authorization scoped?',
  approvals: 'Which actions require human approval?',
  controls: 'Where are tool calls validated, logged and monitored?',
  independence: 'Can models, workflows and connectors each change independently?',
};

// ───────────────────────────── locating keys ─────────────────────────────

/** Maps key paths of a YAML (or JSON) file to links at the line of the key. */
class Locator {
  private readonly doc?: Document;
  private readonly lines = new LineCounter();

  constructor(readonly file: string) {
    try {
      this.doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: this.lines, prettyErrors: false });
    } catch {
      this.doc = undefined; // a missing or unreadable file: links without lines
    }
  }

  link(path: (string | number)[]): ReadinessLink {
    const { line, exact } = this.lineOf(path);
    return { file: this.file, ...(line !== undefined ? { line } : {}), path: path.join('.'), ...(this.doc && !exact ? { defaulted: true as const } : {}) };
  }

  /** Line of the key (or sequence item) at `path`, else of its nearest present ancestor. */
  private lineOf(path: (string | number)[]): { line?: number; exact: boolean } {
    if (!this.doc) return { exact: false };
    for (let n = path.length; n > 0; n--) {
      const parent = n === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, n - 1), true);
      const key = path[n - 1];
      let at: number | undefined;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
        at = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
      } else if (isSeq(parent) && typeof key === 'number') {
        at = (parent.items[key] as { range?: [number, number, number] } | undefined)?.range?.[0];
      }
      if (at !== undefined) return { line: this.lines.linePos(at).line, exact: n === path.length };
    }
    return { exact: false };
  }
}

// ───────────────────────────── policy analysis ─────────────────────────────

interface PolicyView {
  id: string;
  effect: 'permit' | 'forbid';
  file: string;
  line: number;
  description?: string;
  approval?: { group: string; quorum: number; expires?: string; escalateTo?: string; escalateAfter?: string };
  /** Tool actions (`server.tool`) the policy can apply to, per the schema. */
  actions: string[];
  /** False when the policy's action scope is unconstrained (`action`). */
  scoped: boolean;
  /** Agents the policy is limited to by a `context.agent == ...` conjunct; absent = any agent. */
  agents?: string[];
}

interface PolicyAnalysis {
  policies: PolicyView[];
  /** Tool actions declared in the schema (with appliesTo). */
  declared: Set<string>;
}

const ACTION_UID = /^Airlock::Action::"((?:[^"\\]|\\.)*)"$/;

/** Reads the (already validated) policy directory: per policy its id, location, approval, actions, agents. */
function analysePolicies(dir: string): PolicyAnalysis {
  const schema = readFileSync(join(dir, SCHEMA_FILE), 'utf8');
  const sj = cedar.schemaToJson(schema);
  if (sj.type === 'failure') throw new Error(`schema: ${sj.errors.map((e) => e.message).join('; ')}`);
  const nsActions = ((sj.json as Record<string, { actions?: Record<string, { appliesTo?: unknown }> }>).Airlock?.actions ?? {}) as Record<string, { appliesTo?: unknown }>;
  const declared = new Set(Object.entries(nsActions).filter(([, a]) => a.appliesTo).map(([n]) => n));

  const policies: PolicyView[] = [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.cedar') && statSync(join(dir, f)).isFile()).sort();
  for (const f of files) {
    const path = join(dir, f);
    const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
    splitPolicies(text).chunks.forEach((c, index) => {
      const j = cedar.policyToJson(c.text);
      if (j.type === 'failure') throw new Error(`${path}: ${j.errors.map((e) => e.message).join('; ')}`);
      const ann = (j.json.annotations ?? {}) as Record<string, string>;
      const envs = cedar.getValidRequestEnvsPolicy(c.text, schema);
      if (envs.type === 'failure') throw new Error(`${path}: ${envs.error}`);
      const at = /@\s*id\b/.exec(c.masked)?.index ?? /\S/.exec(c.masked)?.index ?? 0;
      const view: PolicyView = {
        id: ann.id ?? `${f}:${index}`,
        effect: j.json.effect,
        file: path,
        line: text.slice(0, c.start + at).split('\n').length,
        actions: envs.actions.map((a) => ACTION_UID.exec(a)).filter((m) => m !== null).map((m) => JSON.parse(`"${m[1]}"`) as string),
        scoped: j.json.action.op !== 'All',
      };
      if (ann.description) view.description = ann.description;
      if (ann.approval !== undefined) {
        view.approval = { group: ann.approval, quorum: Number(ann.quorum ?? 1) };
        if (ann.expires) view.approval.expires = ann.expires;
        if (ann.escalate_to) Object.assign(view.approval, { escalateTo: ann.escalate_to, escalateAfter: ann.escalate_after });
      }
      const agents = agentScope(j.json.conditions as unknown as Condition[]);
      if (agents) view.agents = agents;
      policies.push(view);
    });
  }
  return { policies, declared };
}

/** Cedar's JSON expression form, loosely typed: we only look for `context.agent` comparisons. */
type Expr = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Condition {
  kind: 'when' | 'unless';
  body: Expr;
}

/** Agents named by `context.agent == Agent::"x"`, `context.agent in [...]` or `context.agent.name == "x"` conjuncts of `when` clauses. */
function agentScope(conditions: Condition[]): string[] | undefined {
  const conjuncts = (e: Expr): Expr[] => (e['&&'] ? [...conjuncts(e['&&'].left), ...conjuncts(e['&&'].right)] : [e]);
  const isContextAgent = (e: Expr) => e?.['.']?.attr === 'agent' && e['.'].left?.Var === 'context';
  const agentIds = (e: Expr): string[] => {
    const one = (v: Expr) => (v?.Value?.__entity?.type === 'Airlock::Agent' ? [v.Value.__entity.id as string] : []);
    return Array.isArray(e?.Set) ? e.Set.flatMap(one) : one(e);
  };
  const names = new Set<string>();
  for (const c of conditions) {
    if (c.kind !== 'when') continue;
    for (const e of conjuncts(c.body)) {
      const op = e['=='] ?? e.in;
      if (!op) continue;
      for (const [l, r] of [[op.left, op.right], [op.right, op.left]] as Expr[][]) {
        if (isContextAgent(l)) agentIds(r).forEach((n) => names.add(n));
        if (e['=='] && l?.['.']?.attr === 'name' && isContextAgent(l['.'].left) && typeof r?.Value === 'string') names.add(r.Value);
      }
    }
  }
  return names.size > 0 ? [...names].sort() : undefined;
}

// ───────────────────────────── the model the questions share ─────────────────────────────

interface ToolView {
  action: string;
  server: string;
  tool: string;
  write: boolean;
  destructive: boolean;
}

interface ServerView {
  id: string;
  /** Effective status: a catalog retirement wins, else the runtime decision, else the catalog. */
  status: 'proposed' | 'approved' | 'quarantined' | 'retired';
  statusChange: StatusEntry | null;
  pins: LockFile['servers'][string] | null;
  /** Pinned tools the catalog allows; null when the tools are unknown (not pinned, or lockfile broken). */
  tools: ToolView[] | null;
}

interface Coverage {
  declared: boolean;
  permits: string[];
  approvals: string[];
  forbids: string[];
}

export function buildReadinessReport(config: AirlockConfig, deps: ReadinessDeps = {}): ReadinessReport {
  const cfg = new Locator(config.configFile);
  const lockLoc = new Locator(config.registry.lockFile);
  const statusFile = registryStatusFile(config);
  const statusLoc = new Locator(statusFile);

  const engine = deps.policy ?? attempt(() => PolicyEngine.load(config.policy.dir));
  const lock = deps.lock ?? attempt(() => new LockStore(config.registry.lockFile).current());
  const status = deps.status ?? attempt(() => new StatusStore(statusFile).current());
  const analysis: PolicyAnalysis | Error = engine instanceof Error ? engine : attempt(() => analysePolicies(config.policy.dir));

  const servers = new Map<string, ServerView>();
  for (const [id, s] of Object.entries(config.servers)) {
    const change = status instanceof Error ? null : (status.servers[id] ?? null);
    const pins = lock instanceof Error ? null : (lock.servers[id] ?? null);
    const tools = pins
      ? Object.entries(pins.tools)
          .filter(([name]) => !s.tools || s.tools.includes(name))
          .map(([name, t]) => {
            const a = (t.definition.annotations ?? {}) as { readOnlyHint?: boolean; destructiveHint?: boolean };
            const write = a.readOnlyHint !== true;
            return { action: `${id}.${name}`, server: id, tool: name, write, destructive: write && a.destructiveHint !== false };
          })
      : null;
    // As the API reports it; an unreadable status file refuses every server (its own gap).
    const effective = s.status === 'retired' ? 'retired' : (change?.status ?? s.status);
    servers.set(id, { id, status: effective, statusChange: change, pins, tools });
  }

  /** The tools an agent can actually reach: pinned, allowed by the catalog, on servers that are approved. */
  const agentTools = (name: string): ToolView[] =>
    config.agents[name]!.servers.flatMap((s) => (servers.get(s)?.status === 'approved' ? (servers.get(s)!.tools ?? []) : []));

  const coverage = (agent: string, action: string): Coverage | null => {
    if (analysis instanceof Error) return null;
    const applies = analysis.policies.filter((p) => p.actions.includes(action) && (!p.agents || p.agents.includes(agent)));
    return {
      declared: analysis.declared.has(action),
      permits: applies.filter((p) => p.effect === 'permit' && !p.approval).map((p) => p.id),
      approvals: applies.filter((p) => p.approval).map((p) => p.id),
      forbids: applies.filter((p) => p.effect === 'forbid' && p.scoped).map((p) => p.id),
    };
  };
  const policyLink = (id: string): ReadinessLink => {
    const p = (analysis as PolicyAnalysis).policies.find((x) => x.id === id)!;
    return { file: p.file, line: p.line, path: p.id };
  };

  const ctx: Ctx = { config, cfg, lockLoc, statusLoc, engine, lock, status, analysis, servers, agentTools, coverage, policyLink };
  // The engine loaded but reading its files for detail failed: answer without per-policy detail, and say so.
  if (analysis instanceof Error && !(engine instanceof Error)) ctx.analysisError = analysis.message;
  const questions = [execution(ctx), systems(ctx), identity(ctx), approvals(ctx), controls(ctx), independence(ctx)];
  const gaps = questions.flatMap((q) => q.gaps).sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return {
    generatedAt: (deps.now ?? new Date()).toISOString(),
    configFile: config.configFile,
    policyVersion: engine instanceof Error ? null : engine.version,
    questions,
    gaps,
    ok: !gaps.some((g) => g.severity === 'error'),
  };
}

interface Ctx {
  config: AirlockConfig;
  cfg: Locator;
  lockLoc: Locator;
  statusLoc: Locator;
  engine: PolicyEngine | Error;
  lock: LockFile | Error;
  status: StatusFile | Error;
  analysis: PolicyAnalysis | Error;
  analysisError?: string;
  servers: Map<string, ServerView>;
  agentTools: (agent: string) => ToolView[];
  coverage: (agent: string, action: string) => Coverage | null;
  policyLink: (id: string) => ReadinessLink;
}

function attempt<T>(fn: () => T): T | Error {
  try {
    return fn();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

const gap = (severity: Severity, code: GapCode, message: string, link: ReadinessLink): ReadinessGap => ({ severity, code, message, link });
const list = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const executes = (phase: string) => phase !== 'read-only';

// ───────────────────────────── 1. execution ─────────────────────────────

const PHASE_MEANING = {
  'read-only': 'advisory only: the control layer denies every tool that is not read-only, so it can read and propose but never change a system',
  gated: 'approved for execution: it may call write tools, but every write the policies allow also waits for a member of its approvals.group',
  autonomous: 'approved for execution: the Cedar policies alone decide each write, including which ones need a human',
} as const;

function execution(c: Ctx): ReadinessAnswer {
  const gaps: ReadinessGap[] = [];
  const agents = Object.entries(c.config.agents).map(([name, a]) => {
    a.servers.forEach((s, i) => {
      const st = c.servers.get(s)!.status;
      if (st !== 'approved')
        gaps.push(gap('error', 'agent-server-unavailable', `agent ${name} uses server ${s}, which is ${st}: its tools are refused`, c.cfg.link(['agents', name, 'servers', i])));
    });
    const tools = c.agentTools(name);
    return {
      name,
      phase: a.autonomy,
      execution: executes(a.autonomy) ? 'approved' : 'advisory',
      why: `${a.autonomy}: ${PHASE_MEANING[a.autonomy]}`,
      servers: a.servers,
      writeTools: tools.filter((t) => t.write).map((t) => t.action),
      readTools: tools.filter((t) => !t.write).map((t) => t.action),
      maxSteps: a.maxSteps,
    };
  });
  const approved = agents.filter((a) => a.execution === 'approved');
  const advisory = agents.filter((a) => a.execution === 'advisory');
  const answer =
    agents.length === 0
      ? 'No agents are configured.'
      : `Approved for execution: ${approved.length ? approved.map((a) => `${a.name} (${a.phase})`).join(', ') : 'none'}. ` +
        `Advisory only (read-only phase): ${list(advisory.map((a) => a.name))}. The phase is set per agent by agents.<name>.autonomy.`;
  return {
    id: 'execution',
    question: QUESTIONS.execution,
    answer,
    details: { agents },
    links: Object.keys(c.config.agents).map((n) => c.cfg.link(['agents', n, 'autonomy'])),
    gaps,
  };
}

// ───────────────────────────── 2. systems ─────────────────────────────

function systems(c: Ctx): ReadinessAnswer {
  const gaps: ReadinessGap[] = [];
  const { config } = c;
  if (c.lock instanceof Error)
    gaps.push(gap('error', 'lockfile-unreadable', `the registry lockfile cannot be used, so every server fails closed: ${c.lock.message}`, c.cfg.link(['registry', 'lockFile'])));
  if (c.status instanceof Error)
    gaps.push(gap('error', 'status-unreadable', `the registry status file cannot be used, so every server is refused: ${c.status.message}`, c.statusLoc.link(['servers'])));

  const rows = Object.entries(config.servers).map(([id, s]) => {
    const v = c.servers.get(id)!;
    const here = c.cfg.link(['servers', id]);
    if (v.status !== 'retired') {
      if (!s.owner)
        gaps.push(gap(v.status === 'approved' ? 'error' : 'warning', 'server-no-owner', `server ${id} (${v.status}) has no owner: no team is accountable for it`, here));
      if (!v.pins && !(c.lock instanceof Error)) {
        const consequence = config.registry.requirePins ? 'its calls fail closed' : 'its tools are called without review (registry.requirePins is off)';
        gaps.push(
          v.status === 'approved'
            ? gap('error', 'server-not-pinned', `server ${id} is approved but was never certified: no pins in the lockfile, so ${consequence}. Run \`airlock registry pin ${id}\``, here)
            : gap('warning', 'server-not-pinned', `server ${id} (${v.status}) has no pins in the lockfile; pin it before approving it`, here),
        );
      }
      if (v.pins?.override)
        gaps.push(
          gap('warning', 'server-findings-overridden', `server ${id} was pinned by ${v.pins.override.by} over ${plural(v.pins.override.findings.length, 'scanner finding')}: ${v.pins.override.reason}`, c.lockLoc.link(['servers', id, 'override'])),
        );
    }
    return {
      id,
      transport: s.transport,
      endpoint: s.transport === 'http' ? s.url : `stdio: ${basename(s.command)}`,
      classification: s.classification,
      owner: s.owner ?? null,
      status: v.status,
      catalogStatus: s.status,
      statusChange: v.statusChange,
      certifiedBy: v.pins?.pinnedBy ?? null,
      certifiedAt: v.pins?.pinnedAt ?? null,
      findingsOverride: v.pins?.override ?? null,
      allowedTools: s.tools ?? null,
      tools: v.tools,
      agents: Object.entries(config.agents).filter(([, a]) => a.servers.includes(id)).map(([n]) => n),
    };
  });
  const approved = rows.filter((r) => r.status === 'approved');
  const cert = (r: (typeof rows)[number]) =>
    `${r.id} (${r.classification}, owner ${r.owner ?? 'NONE'}): ${r.certifiedBy ? `pinned by ${r.certifiedBy} at ${r.certifiedAt}` : 'NOT certified'}` +
    (r.statusChange?.status === 'approved' ? `, re-approved by ${r.statusChange.by} at ${r.statusChange.at}` : '');
  const answer =
    rows.length === 0
      ? 'No MCP servers are in the catalog.'
      : `${plural(rows.length, 'MCP server')} in the catalog, ${approved.length} approved and callable. ` +
        `${approved.map(cert).join('; ')}.` +
        (rows.length > approved.length ? ` Not callable: ${rows.filter((r) => r.status !== 'approved').map((r) => `${r.id} (${r.status})`).join(', ')}.` : '');
  const links = [
    ...Object.keys(config.servers).map((id) => c.cfg.link(['servers', id])),
    ...Object.keys(config.servers).filter((id) => c.servers.get(id)!.pins).map((id) => c.lockLoc.link(['servers', id])),
    ...Object.keys(config.servers).filter((id) => c.servers.get(id)!.statusChange).map((id) => c.statusLoc.link(['servers', id])),
  ];
  return { id: 'systems', question: QUESTIONS.systems, answer, details: { lockFile: config.registry.lockFile, statusFile: c.statusLoc.file, servers: rows }, links, gaps };
}

// ───────────────────────────── 3. identity ─────────────────────────────

function identity(c: Ctx): ReadinessAnswer {
  const { config } = c;
  const gaps: ReadinessGap[] = [];
  const id = config.identity;
  const issuer =
    id.issuer === 'oidc'
      ? { kind: 'oidc', issuer: id.oidc!.issuer, audience: id.oidc!.audience, roleMappings: id.oidc!.roleMappings ?? null, serviceSubjects: id.oidc!.serviceSubjects ?? [] }
      : { kind: 'dev', issuer: 'embedded dev issuer (demo users)' };
  if (id.issuer === 'dev')
    gaps.push(gap('warning', 'dev-issuer', 'identity.issuer is dev: bearer tokens come from the embedded demo issuer, not your identity provider', c.cfg.link(['identity', 'issuer'])));

  const agents = Object.entries(config.agents).map(([name, a]) => {
    const specific = c.analysis instanceof Error ? [] : c.analysis.policies.filter((p) => p.agents?.includes(name)).map((p) => p.id);
    return {
      name,
      runsAs: 'the verified caller of each run (token subject and groups); a service account may act on behalf of a user, and policy sees both',
      servers: a.servers,
      toolAllowlists: Object.fromEntries(a.servers.map((s) => [s, config.servers[s]?.tools ?? 'all pinned tools'])),
      phase: a.autonomy,
      agentSpecificPolicies: specific,
    };
  });
  const connectors = Object.entries(config.servers).map(([sid, s]) => ({
    server: sid,
    credentials: s.credentials.map((cr) => ({ from: cr.from, inject: 'env' in cr.inject ? { env: cr.inject.env } : { header: cr.inject.header } })),
    oauth: s.transport === 'http' && s.oauth ? { tokenUrl: s.oauth.tokenUrl, clientId: s.oauth.clientId, resource: s.oauth.resource ?? null, scope: s.oauth.scope ?? null } : null,
  }));
  const who = id.issuer === 'oidc' ? `the OIDC issuer ${id.oidc!.issuer}` : 'the embedded dev issuer';
  const answer =
    `Agents hold no standing identity: each run acts for the caller whose bearer token ${who} signed (a service account may act on behalf of a user). ` +
    `Authorization is scoped per agent by its server list (agents.<name>.servers), the catalog's tool allowlists (servers.<id>.tools), ` +
    `its autonomy phase, and the Cedar policies, which see the principal's groups and the agent's name. ` +
    `Connectors authenticate with their own credentials, injected only into their own server.`;
  const links = [
    c.cfg.link(['identity', 'issuer']),
    ...(id.issuer === 'oidc' ? [c.cfg.link(['identity', 'oidc'])] : []),
    ...Object.keys(config.agents).map((n) => c.cfg.link(['agents', n, 'servers'])),
    ...Object.entries(config.servers).flatMap(([sid, s]) => [
      ...(s.credentials.length ? [c.cfg.link(['servers', sid, 'credentials'])] : []),
      ...(s.transport === 'http' && s.oauth ? [c.cfg.link(['servers', sid, 'oauth'])] : []),
    ]),
  ];
  return { id: 'identity', question: QUESTIONS.identity, answer, details: { issuer, agents, connectors }, links, gaps };
}

// ───────────────────────────── 4. approvals ─────────────────────────────

function approvals(c: Ctx): ReadinessAnswer {
  const { config } = c;
  const gaps: ReadinessGap[] = [];
  const analysed = !(c.analysis instanceof Error);
  const rules = c.analysis instanceof Error ? [] : c.analysis.policies.filter((p) => p.approval);

  const agents = Object.entries(config.agents).map(([name, a]) => {
    const writes = c.agentTools(name).filter((t) => t.write);
    const tools = writes.map((t) => ({ action: t.action, destructive: t.destructive, ...c.coverage(name, t.action) }));
    if (executes(a.autonomy) && analysed) {
      for (const t of tools) {
        if (t.permits!.length || t.approvals!.length) continue;
        const i = a.servers.indexOf(t.action.split('.')[0]!);
        const why = !t.declared
          ? `it is not declared in the policy schema (${SCHEMA_FILE})`
          : `no policy permits it${t.forbids!.length ? ` (only forbids: ${t.forbids!.join(', ')})` : ''}`;
        gaps.push(
          gap('error', 'write-tool-ungoverned', `agent ${name} can call write tool ${t.action}, but ${why}: every call is denied. Add a policy, or leave the tool out of servers.<id>.tools`, c.cfg.link(['agents', name, 'servers', i])),
        );
      }
      if (a.autonomy === 'autonomous' && tools.length > 0 && !tools.some((t) => t.approvals!.length > 0))
        gaps.push(
          gap('error', 'autonomous-without-approval', `agent ${name} is autonomous and no approval policy (@approval) covers any of its ${plural(tools.length, 'write tool')} (${tools.map((t) => t.action).join(', ')}): every write the policies permit runs without a human`, c.cfg.link(['agents', name, 'autonomy'])),
        );
    }
    return {
      name,
      phase: a.autonomy,
      phaseApproval: a.autonomy === 'gated' ? { group: a.approvals.group, expiresAfterMs: a.approvals.expiresAfter } : null,
      writeTools: tools,
    };
  });

  const parts: string[] = [];
  for (const r of rules) {
    const a = r.approval!;
    const who = `${a.quorum === 1 ? 'one approver' : `${a.quorum} distinct approvers`} from ${a.group}${a.escalateTo ? ` (escalating to ${a.escalateTo} after ${a.escalateAfter})` : ''}`;
    parts.push(`${r.actions.join(', ') || '(no tool)'}${r.agents ? ` by ${r.agents.join(', ')}` : ''} — ${r.id}${r.description ? ` (${r.description})` : ''}: ${who}`);
  }
  for (const g of agents.filter((x) => x.phaseApproval))
    parts.push(`every write of ${g.name} (gated phase) needs one approver from ${g.phaseApproval!.group}`);
  const answer = !analysed
    ? `${c.engine instanceof Error ? 'The policy set is unavailable, so every tool call is denied' : 'The policy files could not be analysed'}. Phase rules: ${agents.filter((x) => x.phaseApproval).map((x) => `${x.name} (gated) sends writes to ${x.phaseApproval!.group}`).join('; ') || 'none'}.`
    : parts.length
      ? `${parts.join('; ')}. Approvals bind to the exact call (digest), are single use and expire.`
      : 'No action requires human approval: no @approval policy and no agent in the gated phase.';
  const links = [
    ...rules.map((r) => c.policyLink(r.id)),
    ...agents.filter((x) => x.phaseApproval).map((x) => c.cfg.link(['agents', x.name, 'approvals'])),
  ];
  return {
    id: 'approvals',
    question: QUESTIONS.approvals,
    answer,
    details: { rules: rules.map((r) => ({ policyId: r.id, ...r.approval, actions: r.actions, agents: r.agents ?? 'any', description: r.description ?? null })), agents },
    links,
    gaps,
  };
}

// ───────────────────────────── 5. controls ─────────────────────────────

function controls(c: Ctx): ReadinessAnswer {
  const { config } = c;
  const gaps: ReadinessGap[] = [];
  if (c.engine instanceof Error) {
    const e = c.engine;
    const link = e instanceof PolicyError ? { file: e.file, ...(e.line !== undefined ? { line: e.line } : {}), path: 'policy.dir' } : c.cfg.link(['policy', 'dir']);
    gaps.push(gap('error', 'policy-load-failed', `the policy set does not load, so every tool call is denied: ${e.message}`, link));
  } else {
    for (const w of c.engine.warnings) gaps.push(gap('warning', 'policy-warning', w, c.cfg.link(['policy', 'dir'])));
    if (c.analysisError)
      gaps.push(gap('warning', 'policy-warning', `the policy files could not be analysed, so approval and coverage checks were skipped: ${c.analysisError}`, c.cfg.link(['policy', 'dir'])));
  }

  const audit = config.audit;
  const paths = auditPaths(config);
  const store = audit.databaseUrl ? { kind: 'postgresql', url: redactUrl(audit.databaseUrl), schema: audit.schema } : { kind: 'sqlite', file: paths.file };
  const anchors = { file: paths.anchorFile, everyMs: audit.anchorEvery };
  const obs = config.observability;
  const metricsOn = obs.metrics.enabled;
  const metricsUrl = `http://${config.api.host}:${config.api.port}/metrics`;
  const otlp = obs.otlp?.endpoint ?? config.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? null;
  if (!metricsOn && !otlp)
    gaps.push(gap('warning', 'monitoring-off', 'observability.metrics is disabled and no OTLP endpoint is set: nothing monitors tool calls outside the logs', c.cfg.link(['observability', 'metrics'])));

  const policyDesc =
    c.engine instanceof Error
      ? 'the Cedar policy set (currently failing to load: every call is denied)'
      : `the Cedar policy set (version ${c.engine.version}, ${plural(c.engine.policyIds.length, 'policy', 'policies')})`;
  const redactRules = Object.keys(audit.redact).length;
  const answer =
    `Validated in activities/control.ts before every call: the agent's server list, the server's status and pinned tool definition (registry lockfile), ` +
    `the args' size and the pinned JSON Schema (ajv), the autonomy phase, then ${policyDesc}; any failure denies. ` +
    `Logged in the hash-chained audit store (${store.kind === 'postgresql' ? `PostgreSQL ${store.url}` : `SQLite ${store.file}`}` +
    `${redactRules ? `, ${plural(redactRules, 'redaction rule')}` : ', no redaction rules'}) and in each run's Temporal history. ` +
    `Monitored via ${metricsOn ? `${metricsUrl} (Prometheus)` : 'no /metrics (disabled)'} and ${otlp ? `OpenTelemetry traces to ${otlp}` : 'OpenTelemetry traces when an OTLP endpoint is configured (none is)'}.`;
  const links = [
    c.cfg.link(['policy', 'dir']),
    c.cfg.link(['registry', 'lockFile']),
    c.cfg.link(['registry', 'requirePins']),
    c.cfg.link(audit.databaseUrl ? ['audit', 'databaseUrl'] : ['audit', 'file']),
    c.cfg.link(['audit', 'redact']),
    c.cfg.link(['observability', 'metrics']),
    c.cfg.link(['observability', 'otlp']),
  ];
  return {
    id: 'controls',
    question: QUESTIONS.controls,
    answer,
    details: {
      validation: {
        where: 'activities/control.ts',
        steps: ['server allowed for the agent', 'server approved and registered', 'tool pinned and allowed by the catalog', 'args size bound', 'args match the pinned input schema (ajv)', 'autonomy phase', 'Cedar policy decision'],
        policyDir: config.policy.dir,
        policyVersion: c.engine instanceof Error ? null : c.engine.version,
        policies: c.engine instanceof Error ? [] : c.engine.policyIds,
        lockFile: config.registry.lockFile,
        requirePins: config.registry.requirePins,
      },
      logging: { auditStore: store, redact: audit.redact, anchors, temporal: { namespace: config.temporal.namespace } },
      monitoring: { metrics: metricsOn ? metricsUrl : null, openTelemetry: otlp },
      ...(c.analysisError ? { policyAnalysisError: c.analysisError } : {}),
    },
    links,
    gaps,
  };
}

// ───────────────────────────── 6. independence ─────────────────────────────

function independence(c: Ctx): ReadinessAnswer {
  const { config } = c;
  const gaps: ReadinessGap[] = [];
  if (!config.registry.requirePins)
    gaps.push(gap('warning', 'pins-not-required', 'registry.requirePins is off: a connector can change (or run unpinned) without anyone re-approving it', c.cfg.link(['registry', 'requirePins'])));
  const models = Object.entries(config.agents).map(([name, a]) => {
    const p = config.models[a.model];
    return { agent: name, model: a.model, provider: p ? { kind: p.kind, model: p.model, baseUrl: p.baseUrl ?? null } : { kind: 'embedded', model: 'deterministic planner' } };
  });
  const workflows = Object.entries(config.agents).map(([name, a]) => ({ agent: name, phase: a.autonomy, playbookSteps: a.playbook.length, maxSteps: a.maxSteps }));
  const connectors = Object.keys(config.servers).map((id) => ({ server: id, pinned: !!c.servers.get(id)!.pins, status: c.servers.get(id)!.status }));
  const version = c.engine instanceof Error ? 'unavailable' : c.engine.version;
  const answer =
    'Yes. Models: each agent names a provider (agents.<name>.model → models.<name>), so a model changes in one place without touching plans or connectors. ' +
    "Workflows: an agent's plan, phase and approval defaults are config frozen into each run when it starts, so running workflows keep theirs while new runs get the change. " +
    "Connectors: servers are catalog entries with pinned tool definitions; a changed server is caught as drift and fails closed until re-approved, without touching agents or models. " +
    `Policies change on their own too (version ${version}); every decision records the version it used.`;
  const links = [
    ...Object.keys(config.agents).map((n) => c.cfg.link(['agents', n, 'model'])),
    ...Object.keys(config.models).map((m) => c.cfg.link(['models', m])),
    c.cfg.link(['registry', 'lockFile']),
    c.cfg.link(['policy', 'dir']),
  ];
  return { id: 'independence', question: QUESTIONS.independence, answer, details: { models, workflows, connectors, policyVersion: version }, links, gaps };
}
