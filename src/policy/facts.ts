// What a loaded policy can apply to, worked out once at load: the tools (actions) and the agents; and which of
// the run's labels (`context.labels`) its conditions read.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Clause, Expr, PolicyJson, TypeAndId } from '@cedar-policy/cedar-wasm/nodejs';
import { PolicyError } from './location.js';
import type { ParsedPolicy } from './files.js';
import { ACTION, AGENT, SERVICE, USER, type ActionInfo } from './schema.js';
import type { PolicyFacts, ToolActionFacts } from './types.js';

/** The tools the schema declares, with the principal kinds that may call each. */
export function toolActionFacts(actions: ReadonlyMap<string, ActionInfo>): Map<string, ToolActionFacts> {
  return new Map(
    [...actions].map(([name, a]) => [
      name,
      Object.freeze({ principals: Object.freeze([...(a.principalTypes.has(USER) ? ['user' as const] : []), ...(a.principalTypes.has(SERVICE) ? ['service' as const] : [])]) }),
    ]),
  );
}

/** Facts about each (validated) policy. `schema` is the schema the policies were validated against. */
export function policyFacts(policies: readonly ParsedPolicy[], schema: cedar.Schema, toolActions: ReadonlyMap<string, unknown>): PolicyFacts[] {
  // Cedar names actions by their entity UID text; the declared tools, by the UID Cedar prints for each.
  const byUid = new Map([...toolActions.keys()].map((name) => [`${ACTION}::${JSON.stringify(name)}`, name]));
  return policies.map((p) => {
    // Cedar resolves the action scope against the schema (action groups: `action in Action::"read"`) and keeps
    // only the request environments the policy type-checks in, so `context.args.amount` narrows it to the
    // tools that take an amount. It reads the schema again on each call (some ms): done once per policy, at load.
    // The policy goes as text: its JSON form, once in JS, cannot carry a Long beyond 2^53 exactly.
    const envs = cedar.getValidRequestEnvsPolicy(p.text, schema);
    // The policy and the schema were parsed and validated just before: a failure here is Cedar's own inconsistency.
    if (envs.type === 'failure') throw new PolicyError(`cannot work out which tools policy ${p.id} applies to: ${envs.error}`, p.file, p.line);
    const actions = [...new Set(envs.actions.flatMap((uid) => byUid.get(uid) ?? []))].sort();
    const agents = agentScope(p.json);
    const { fields: labels } = labelsUse(p.json);
    return frozen({
      id: p.id,
      effect: p.effect,
      file: p.file,
      line: p.idLine,
      ...(p.description ? { description: p.description } : {}),
      ...(p.reason ? { reason: p.reason } : {}),
      ...(p.approval ? { approval: { ...p.approval } } : {}),
      labels,
      actions,
      anyAction: p.json.action.op === 'All',
      ...(agents ? { agents } : {}),
    });
  });
}

/** The engine decides with these same objects (reasons, approval requirements): no reader may change them. */
function frozen(f: PolicyFacts): PolicyFacts {
  Object.freeze(f.actions);
  Object.freeze(f.labels);
  if (f.agents) Object.freeze(f.agents);
  if (f.approval) Object.freeze(f.approval);
  return Object.freeze(f);
}

// ───────────────────────────── labels ─────────────────────────────

/**
 * How a policy's conditions use the run's labels: `fields`, those it reads (`context.labels.x`,
 * `context.labels has x`), sorted; `reads`, whether it reads `context.labels` at all (a field, or the record
 * whole: `context has labels`, `context.labels == {...}`). A denial such a policy determines names the labels.
 */
export function labelsUse(policy: Pick<PolicyJson, 'conditions'>): { fields: string[]; reads: boolean } {
  const fields = new Set<string>();
  let reads = false;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'Value') continue; // a literal: data, not an expression
      if ((k === '.' || k === 'has') && isAttrAccess(v)) {
        if (isContextLabels(v.left)) fields.add(v.attr);
        if (isContextLabels(v.left) || (isVar(v.left, 'context') && v.attr === 'labels')) reads = true;
      }
      visit(v);
    }
  };
  visit(policy.conditions);
  return { fields: [...fields].sort(), reads };
}

function isAttrAccess(v: unknown): v is { left: Expr; attr: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'left' in v && typeof (v as { attr?: unknown }).attr === 'string';
}

function isVar(e: Expr, name: string): boolean {
  return typeof e === 'object' && e !== null && 'Var' in e && e.Var === name;
}

/** `context.labels` */
function isContextLabels(e: Expr): boolean {
  if (typeof e !== 'object' || e === null || !('.' in e) || Array.isArray(e['.'])) return false;
  const { left, attr } = e['.'];
  return attr === 'labels' && isVar(left, 'context');
}

// ───────────────────────────── agent scope ─────────────────────────────

type Operands = { left: Expr; right: Expr };

/**
 * The agents a policy is limited to, from the top-level conjuncts of its `when` clauses that compare the agent:
 * `context.agent == Airlock::Agent::"x"`, `context.agent in [Airlock::Agent::"x", ...]` or
 * `context.agent.name == "x"` (either side). Every such conjunct must hold, so the scope is their intersection
 * (an empty list: no agent can meet the policy). Undefined when no conjunct constrains the agent: anything else
 * (a disjunction, an `unless`) is read as "any agent", which over-states what the policy reaches, never under-states it.
 */
export function agentScope(policy: Pick<PolicyJson, 'conditions'>): string[] | undefined {
  let scope: Set<string> | undefined;
  for (const body of policy.conditions.filter((c): c is Extract<Clause, { kind: 'when' }> => c.kind === 'when').map((c) => c.body)) {
    for (const e of conjuncts(body)) {
      const names = agentsNamedBy(e);
      if (names) scope = scope ? new Set([...scope].filter((n) => names.has(n))) : names;
    }
  }
  return scope ? [...scope].sort() : undefined;
}

function conjuncts(e: Expr): Expr[] {
  const and = operands(e, '&&');
  return and ? [...conjuncts(and.left), ...conjuncts(and.right)] : [e];
}

/** The agents an `==` or `in` comparison with the agent admits, or undefined if it is not one. */
function agentsNamedBy(e: Expr): Set<string> | undefined {
  const eq = operands(e, '==');
  const op = eq ?? operands(e, 'in');
  if (!op) return undefined;
  for (const [l, r] of [
    [op.left, op.right],
    [op.right, op.left],
  ] as const) {
    const ids = isContextAgent(l) ? agentIds(r) : undefined;
    if (ids) return new Set(ids);
    if (eq && isAgentName(l)) {
      const name = stringValue(r);
      if (name !== undefined) return new Set([name]);
    }
  }
  return undefined;
}

/** `e`'s operands when it is the binary operator `op`. Cedar's JSON keys each node by its operator; extension calls hold arrays. */
function operands(e: Expr, op: '&&' | '==' | 'in'): Operands | undefined {
  if (!(op in e)) return undefined;
  const node: unknown = Object.getOwnPropertyDescriptor(e, op)?.value;
  return isOperands(node) ? node : undefined;
}

function isOperands(v: unknown): v is Operands {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'left' in v && 'right' in v;
}

/** `context.agent` */
function isContextAgent(e: Expr): boolean {
  if (!('.' in e) || Array.isArray(e['.'])) return false;
  const { left, attr } = e['.'];
  return attr === 'agent' && 'Var' in left && left.Var === 'context';
}

/** `context.agent.name` */
function isAgentName(e: Expr): boolean {
  return '.' in e && !Array.isArray(e['.']) && e['.'].attr === 'name' && isContextAgent(e['.'].left);
}

/** Agent ids of an agent literal or a set literal of them; undefined for anything else (it could be any agent). */
function agentIds(e: Expr): string[] | undefined {
  if ('Set' in e && Array.isArray(e.Set)) {
    const ids = e.Set.map(agentId);
    return ids.every((id): id is string => id !== undefined) ? ids : undefined;
  }
  const id = agentId(e);
  return id === undefined ? undefined : [id];
}

function agentId(e: Expr): string | undefined {
  if (!('Value' in e)) return undefined;
  const v = e.Value;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !('__entity' in v)) return undefined;
  const uid = v.__entity;
  return isTypeAndId(uid) && uid.type === AGENT ? uid.id : undefined;
}

function isTypeAndId(v: unknown): v is TypeAndId {
  return typeof v === 'object' && v !== null && typeof (v as Partial<TypeAndId>).type === 'string' && typeof (v as Partial<TypeAndId>).id === 'string';
}

function stringValue(e: Expr): string | undefined {
  return 'Value' in e && typeof e.Value === 'string' ? e.Value : undefined;
}

/** A hold: a forbid with @approval (engine.ts, "Holds"); the call it stops may run once that approval is given. */
export const isHold = (p: { effect: 'permit' | 'forbid'; approval?: unknown }): boolean => p.effect === 'forbid' && !!p.approval;
