// What the engine tells about the policies it loaded: per policy its location, annotations, the tools it
// can apply to (action groups resolved against the schema) and the agents it is limited to.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PolicyEngine, type PolicyFacts } from '../../src/policy/engine.js';

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '../../examples/policies');
const H = 3_600_000;
const root = mkdtempSync(join(tmpdir(), 'airlock-policy-facts-'));
let n = 0;

const SCHEMA = `namespace Airlock {
  entity User { groups: Set<String> };
  entity ServiceAccount { groups: Set<String> };
  entity Agent { name: String };
  entity Tool;
  action write;
  action "x.search" appliesTo { principal: [User, ServiceAccount], resource: Tool, context: { agent: Agent, args: { limit: Long } } };
  action "x.pay" in [write] appliesTo { principal: [User], resource: Tool, context: { agent: Agent, args: { amount: decimal } } };
  action "x.refund" in [write] appliesTo { principal: [User, ServiceAccount], resource: Tool, context: { agent: Agent, args: { amount: decimal } } };
}
`;

/** An engine over SCHEMA and one policy file. */
function load(policies: string): PolicyEngine {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'schema.cedarschema'), SCHEMA);
  writeFileSync(join(dir, 'p.cedar'), policies);
  return PolicyEngine.load(dir);
}
const facts = (e: PolicyEngine, id: string): PolicyFacts => {
  const p = e.policy(id);
  assert.ok(p, `policy ${id} is loaded`);
  return p;
};
const lineOf = (file: string, marker: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(marker)) + 1;

describe('policy facts of the demo set', () => {
  const engine = PolicyEngine.load(DEMO);

  test('every policy, in load order, with its file and the line of its @id', () => {
    assert.deepEqual(
      engine.policies.map((p) => p.id),
      engine.policyIds,
    );
    for (const p of engine.policies) assert.equal(p.line, lineOf(p.file, `@id("${p.id}")`), `${p.id} at ${p.file}:${p.line}`);
    assert.ok(facts(engine, 'refund-small').file.endsWith('refunds.cedar'));
  });

  test('annotations: description, reason and the parsed approval requirement', () => {
    const one = facts(engine, 'refund-finance-approval');
    assert.equal(one.effect, 'permit');
    assert.equal(one.description, 'Refunds above 500 and up to 5000 USD need one finance approver');
    assert.deepEqual(one.approval, { group: 'finance', quorum: 1, expiresAfterMs: 72 * H, escalateTo: 'finance-leads', escalateAfterMs: 24 * H });
    assert.equal(facts(engine, 'refund-dual-finance-approval').approval?.quorum, 2);
    const limit = facts(engine, 'refund-over-limit');
    assert.equal(limit.effect, 'forbid');
    assert.match(limit.reason ?? '', /never issued by an agent/);
    assert.equal(limit.approval, undefined);
    assert.equal(facts(engine, 'refund-small').approval, undefined);
  });

  test('the tools each policy can apply to, action groups resolved against the schema', () => {
    const reads = ['billing.get_invoice', 'billing.list_invoices', 'billing.list_refunds', 'crm.get_account', 'crm.search_accounts', 'ticketing.get_ticket'];
    // `action in Airlock::Action::"read"`: the group's members.
    assert.deepEqual(facts(engine, 'read-only-tools').actions, reads);
    // `action in [a, b]` and `action == a`.
    assert.deepEqual(facts(engine, 'ticket-writes').actions, ['ticketing.create_ticket', 'ticketing.update_ticket']);
    assert.deepEqual(facts(engine, 'refund-small').actions, ['billing.issue_refund']);
    // An unconstrained action scope reaches every declared tool.
    const guardrail = facts(engine, 'read-only-phase');
    assert.equal(guardrail.anyAction, true);
    assert.deepEqual(guardrail.actions, [...engine.toolActions.keys()].sort());
    assert.equal(facts(engine, 'refund-small').anyAction, false);
  });

  test('the declared tools: actions with appliesTo, not the groups', () => {
    assert.equal(engine.toolActions.size, 10);
    assert.ok(engine.toolActions.has('billing.issue_refund'));
    assert.ok(!engine.toolActions.has('read') && !engine.toolActions.has('write'));
    assert.deepEqual(engine.toolActions.get('crm.add_note')?.principals, ['user', 'service']);
  });

  test('agent scope: `context.agent == Airlock::Agent::"x"` limits a policy to that agent', () => {
    for (const id of ['refund-small', 'refund-finance-approval', 'refund-dual-finance-approval'])
      assert.deepEqual(facts(engine, id).agents, ['dispute-triage', 'refund-assistant', 'refund-react'], id);
    for (const id of ['read-only-tools', 'ticket-writes', 'crm-notes', 'refund-over-limit']) assert.equal(facts(engine, id).agents, undefined, id);
  });
});

describe('policy facts beyond the demo', () => {
  test('agent scope reads ==, in, .name and either side; several constraints intersect', () => {
    const e = load(`@id("set") permit (principal, action == Airlock::Action::"x.search", resource) when { context.agent in [Airlock::Agent::"b", Airlock::Agent::"a"] };
@id("reversed") permit (principal, action == Airlock::Action::"x.search", resource) when { Airlock::Agent::"a" == context.agent };
@id("by-name") permit (principal, action == Airlock::Action::"x.search", resource) when { context.args.limit < 10 && context.agent.name == "c" };
@id("both") permit (principal, action == Airlock::Action::"x.search", resource) when { context.agent in [Airlock::Agent::"a", Airlock::Agent::"b"] && context.agent.name == "b" };
@id("two-whens") permit (principal, action == Airlock::Action::"x.search", resource) when { context.agent == Airlock::Agent::"a" } when { context.agent == Airlock::Agent::"b" };
@id("either") permit (principal, action == Airlock::Action::"x.search", resource) when { context.agent == Airlock::Agent::"a" || context.agent == Airlock::Agent::"b" };
@id("unless") permit (principal, action == Airlock::Action::"x.search", resource) unless { context.agent == Airlock::Agent::"a" };
`);
    assert.deepEqual(facts(e, 'set').agents, ['a', 'b']);
    assert.deepEqual(facts(e, 'reversed').agents, ['a']);
    assert.deepEqual(facts(e, 'by-name').agents, ['c']);
    assert.deepEqual(facts(e, 'both').agents, ['b']);
    // Both clauses must hold: no agent meets the policy.
    assert.deepEqual(facts(e, 'two-whens').agents, []);
    // A disjunction or an `unless` may admit any agent.
    assert.equal(facts(e, 'either').agents, undefined);
    assert.equal(facts(e, 'unless').agents, undefined);
  });

  test('actions: groups, and the tools a condition type-checks for', () => {
    const e = load(`@id("writes") permit (principal, action in Airlock::Action::"write", resource);
@id("amounts") @approval("finance") permit (principal, action, resource) when { context.args has amount && context.args.amount.greaterThan(decimal("10.0")) };
@id("services") forbid (principal is Airlock::ServiceAccount, action, resource);
`);
    assert.deepEqual(facts(e, 'writes').actions, ['x.pay', 'x.refund']);
    // `action` alone, but only the tools whose args have an amount.
    const amounts = facts(e, 'amounts');
    assert.equal(amounts.anyAction, true);
    assert.deepEqual(amounts.actions, ['x.pay', 'x.refund']);
    assert.deepEqual(amounts.approval, { group: 'finance', quorum: 1 });
    // The schema admits no service account to x.pay.
    assert.deepEqual(facts(e, 'services').actions, ['x.refund', 'x.search']);
    assert.deepEqual(e.toolActions.get('x.pay')?.principals, ['user']);
  });

  test('line: of the @id wherever it stands among the annotations, else of the first code; ids default to file:index', () => {
    const e = load(`// header; with a "quote
@description("first; with a semicolon")
@id("second")
permit (principal, action == Airlock::Action::"x.search", resource) // trailing ; comment
when { context.args.limit > 1 };

// a policy without @id
permit (principal, action == Airlock::Action::"x.search", resource);
`);
    assert.equal(facts(e, 'second').line, 3);
    assert.equal(facts(e, 'second').description, 'first; with a semicolon');
    assert.equal(facts(e, 'p.cedar:1').line, 8);
  });
});
