// Data-flow labels in policy: `context.labels` and the Tool's level and trust (schema and engine), holds (a forbid
// with @approval), reasons that name the labels, and the demo's data-flow rules (no-write-down, rule-of-two).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { LabelsContext } from '../../src/core/labels.js';
import { PolicyEngine, PolicyError, type Authorizer, type PolicyDecision, type PolicyRequest } from '../../src/policy/engine.js';

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '../../examples/policies');
const root = mkdtempSync(join(tmpdir(), 'airlock-policy-labels-'));
const H = 3_600_000;
let n = 0;

const SCHEMA = `namespace Airlock {
  entity User { groups: Set<String> };
  entity ServiceAccount { groups: Set<String> };
  entity Agent { name: String };
  entity Tool { classification: String, level: Long, trust: String };
  type Labels = {
    level: Long,
    untrusted?: Bool,
  };
  action write;
  action "x.send" in [write] appliesTo { principal: [User], resource: Tool, context: { labels: Labels, args: { to: String } } };
}
`;

/** A directory with this schema and one policy file. */
function dirWith(policies: string, schema = SCHEMA): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'schema.cedarschema'), schema);
  writeFileSync(join(dir, 'p.cedar'), policies);
  return dir;
}
function loadError(dir: string): PolicyError {
  try {
    PolicyEngine.load(dir);
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected a PolicyError, got ${err}`);
    return err;
  }
  assert.fail(`${dir} loaded`);
}
const lineOf = (text: string, marker: string) => text.split('\n').findIndex((l) => l.includes(marker)) + 1;

const alice = { kind: 'user' as const, id: 'alice', groups: ['support'] };
/** Labels of a run that has read these servers (restricted billing, confidential crm), and untrusted content when asked. */
function labelsOf(untrusted = false): LabelsContext {
  return {
    classification: 'restricted',
    level: 3,
    servers: ['billing', 'crm', ...(untrusted ? ['ticketing'] : [])],
    untrusted,
    untrustedSources: untrusted ? ['ticketing.get_ticket'] : [],
    sensitive: true,
  };
}
const HELD = labelsOf(true);
const HELD_NOTE = ' (run labels: holds restricted (from billing, crm, ticketing); untrusted from ticketing.get_ticket)';

function req(server: string, tool: string, classification: string, args: Record<string, unknown>, over: Partial<PolicyRequest> = {}): PolicyRequest {
  return {
    principal: alice,
    agent: 'refund-assistant',
    phase: 'autonomous',
    server,
    tool,
    toolInfo: { readOnly: false, destructive: false, idempotent: false, classification },
    args,
    runId: 'run-1',
    now: '2025-03-04T10:15:00.000Z',
    ...over,
  };
}
const note = (labels?: LabelsContext, over: Partial<PolicyRequest> = {}) =>
  req('crm', 'add_note', 'confidential', { accountId: 'ACC-1', body: 'refund R-1 of 120 USD on INV-2001' }, { ...(labels ? { labels } : {}), ...over });
const refund = (amount: number, labels?: LabelsContext, classification = 'restricted') =>
  req('billing', 'issue_refund', classification, { invoiceId: 'INV-2001', amount, currency: 'USD' }, labels ? { labels } : {});
const send = (over: Partial<PolicyRequest> = {}) => req('x', 'send', 'internal', { to: 'a@example.com' }, over);

function assertHeld(d: PolicyDecision, policyIds: string[], approval: PolicyDecision['approval']): void {
  assert.equal(d.outcome, 'require_approval', JSON.stringify(d));
  assert.deepEqual(d.policyIds, policyIds);
  assert.deepEqual(d.approval, approval);
  assert.equal(d.errors, undefined);
}

describe('schema: context.labels and the Tool level and trust', () => {
  test('a subset of the labels attributes loads; the engine supplies them, undeclared ones dropped', () => {
    let seen: cedar.StatefulAuthorizationCall | undefined;
    const e = PolicyEngine.load(dirWith('@id("low") permit (principal, action, resource) when { context.labels.level <= 1 && !(context.labels has untrusted && context.labels.untrusted) };'), {
      authorize: (call) => {
        seen = call;
        return cedar.statefulIsAuthorized(call);
      },
    });
    assert.equal(e.evaluate(send({ labels: { ...labelsOf(), classification: 'internal', level: 1, sensitive: false } })).outcome, 'allow');
    assert.deepEqual(seen?.context.labels, { level: 1, untrusted: false });
    // No labels given: a run that has touched nothing (public, level 0).
    assert.equal(e.evaluate(send()).outcome, 'allow');
    assert.deepEqual(seen?.context.labels, { level: 0, untrusted: false });
    assert.equal(e.evaluate(send({ labels: labelsOf() })).outcome, 'deny');
  });

  test('a wrong type or an unknown labels attribute is a load error at its line, in the common type or the action', () => {
    const cases: [string, string, string, RegExp][] = [
      ['    level: Long,', '    level: String,', '    level: String', /context\.labels\.level must have type Long, not String/],
      ['untrusted?: Bool,', 'untrusted?: Bool,\n    colour: String,', 'colour: String', /context\.labels declares attribute colour, which Airlock does not supply/],
      ['labels: Labels,', 'labels: { servers: Set<Long> },', 'labels: { servers', /context\.labels\.servers must have type Set<String>, not Set<Long>/],
      ['labels: Labels,', 'labels: String,', 'labels: String', /context\.labels must be a record type/],
    ];
    for (const [from, to, marker, message] of cases) {
      const schema = SCHEMA.replace(from, to);
      const dir = dirWith('@id("p") permit (principal, action, resource);', schema);
      const err = loadError(dir);
      assert.equal(err.file, join(dir, 'schema.cedarschema'));
      assert.equal(err.line, lineOf(schema, marker), err.message);
      assert.match(err.message, message);
    }
  });

  test('the error for an unsupplied context field lists labels; Tool level and trust must have their types', () => {
    const extra = loadError(dirWith('@id("p") permit (principal, action, resource);', SCHEMA.replace('labels: Labels,', 'labels: Labels, tenant: String,')));
    assert.match(extra.message, /context field tenant is not supplied by Airlock \(it supplies: .*facts, labels\)/);
    const level = loadError(dirWith('@id("p") permit (principal, action, resource);', SCHEMA.replace('level: Long, trust', 'level: String, trust')));
    assert.match(level.message, /entity Tool attribute level must have type Long, not String/);
  });

  test('Tool level is the classification rank unless given; trust defaults to trusted; an unknown classification denies', () => {
    const e = PolicyEngine.load(dirWith('@id("p") permit (principal, action, resource) when { resource.level == 2 && resource.trust == "untrusted" };'));
    const info = (over: Partial<PolicyRequest['toolInfo']>) => send({ toolInfo: { readOnly: false, destructive: false, idempotent: false, classification: 'confidential', ...over } });
    assert.equal(e.evaluate(info({ trust: 'untrusted' })).outcome, 'allow');
    assert.equal(e.evaluate(info({})).outcome, 'deny');
    assert.equal(e.evaluate(info({ classification: 'internal', level: 2, trust: 'untrusted' })).outcome, 'allow');
    const d = e.evaluate(info({ classification: 'secret' }));
    assert.equal(d.outcome, 'deny');
    assert.match(d.errors?.[0] ?? '', /classification "secret" is none of public, internal, confidential, restricted/);
  });
});

describe('demo data-flow policies', () => {
  const engine = PolicyEngine.load(DEMO);

  test('facts: the labels each policy reads; rule-of-two is a hold', () => {
    assert.deepEqual(engine.policy('no-write-down')?.labels, ['level']);
    assert.deepEqual(engine.policy('rule-of-two')?.labels, ['sensitive', 'untrusted']);
    for (const p of engine.policies) if (!['no-write-down', 'rule-of-two'].includes(p.id)) assert.deepEqual(p.labels, [], p.id);
    const hold = engine.policy('rule-of-two')!;
    assert.equal(hold.effect, 'forbid');
    assert.deepEqual(hold.approval, { group: 'support-leads', quorum: 1, expiresAfterMs: 24 * H });
    assert.deepEqual(engine.policy('rule-of-two')?.actions, ['billing.issue_refund', 'crm.add_note', 'ticketing.create_ticket', 'ticketing.update_ticket']);
    // `has` counts as reading the field.
    const e = PolicyEngine.load(dirWith('@id("h") forbid (principal, action, resource) when { context.labels has untrusted && context.labels.level > resource.level };'));
    assert.deepEqual(e.policy('h')?.labels, ['level', 'untrusted']);
  });

  test('no-write-down: a write below what the run holds is denied, naming the labels; a declassified write is not', () => {
    const d = engine.evaluate(refund(100, labelsOf(), 'confidential'));
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(d.policyIds, ['no-write-down']);
    assert.equal(d.reason, `denied by policy no-write-down: ${engine.policy('no-write-down')!.reason}${' (run labels: holds restricted (from billing, crm); no untrusted content)'}`);
    const declassified = engine.evaluate(note(labelsOf()));
    assert.equal(declassified.outcome, 'allow');
    assert.deepEqual(declassified.policyIds, ['crm-notes']);
    // The demo's refund runs: same level, or nothing labelled at all, as before.
    assert.equal(engine.evaluate(refund(100, labelsOf())).outcome, 'allow');
    assert.equal(engine.evaluate(refund(100, undefined, 'confidential')).outcome, 'allow');
  });

  test('rule-of-two + a plain permit: approval by support-leads, with both ids', () => {
    const d = engine.evaluate(note(HELD));
    assertHeld(d, ['crm-notes', 'rule-of-two'], { group: 'support-leads', quorum: 1, expiresAfterMs: 24 * H });
    assert.equal(
      d.reason,
      `held by policy rule-of-two: ${engine.policy('rule-of-two')!.reason}; crm.add_note needs approval by a member of support-leads, expiring after 24h (policy rule-of-two)${HELD_NOTE}`,
    );
    assertHeld(engine.evaluate(refund(100, HELD)), ['refund-small', 'rule-of-two'], { group: 'support-leads', quorum: 1, expiresAfterMs: 24 * H });
    // Without untrusted content the same calls need nobody.
    assert.equal(engine.evaluate(note(labelsOf())).outcome, 'allow');
  });

  test('rule-of-two + an approval permit: the permit keeps its own approvers (a 600 USD refund: finance)', () => {
    const d = engine.evaluate(refund(600, HELD));
    assertHeld(d, ['refund-finance-approval', 'rule-of-two'], engine.policy('refund-finance-approval')!.approval);
    assert.match(
      d.reason,
      /^held by policy rule-of-two: Rule of Two: .*; billing\.issue_refund needs approval by a member of finance \(escalating to finance-leads after 24h\), expiring after 72h \(policy refund-finance-approval\)/,
    );
    assert.ok(d.reason.endsWith(HELD_NOTE), d.reason);
    assertHeld(engine.evaluate(refund(6000, HELD)), ['refund-dual-finance-approval', 'rule-of-two'], engine.policy('refund-dual-finance-approval')!.approval);
  });

  test('rule-of-two with no permit, or with an absolute forbid, denies', () => {
    const none = engine.evaluate(note(HELD, { principal: { kind: 'user', id: 'bob', groups: ['sales'] } }));
    assert.equal(none.outcome, 'deny');
    assert.deepEqual(none.policyIds, ['rule-of-two']);
    assert.equal(none.reason, `denied by policy rule-of-two: ${engine.policy('rule-of-two')!.reason}${HELD_NOTE}`);
    const over = engine.evaluate(refund(25_000, HELD));
    assert.equal(over.outcome, 'deny');
    assert.deepEqual(over.policyIds, ['refund-over-limit', 'rule-of-two']);
    assert.match(over.reason, /^denied by policies refund-over-limit, rule-of-two: refunds above 20000 are never issued/);
    assert.ok(over.reason.endsWith(HELD_NOTE), over.reason);
    const down = engine.evaluate(refund(100, HELD, 'confidential'));
    assert.deepEqual([down.outcome, down.policyIds], ['deny', ['no-write-down', 'rule-of-two']]);
    // A denial no labels policy determined does not name the labels.
    assert.equal(engine.evaluate(refund(25_000, labelsOf())).reason, `denied by policy refund-over-limit: ${engine.policy('refund-over-limit')!.reason}`);
  });

  test('the evaluation without the holds fails closed: an exception, a failure answer or an errored policy deny', () => {
    const failures: Authorizer[] = [
      () => {
        throw new Error('wasm trapped');
      },
      () => ({ type: 'failure', errors: [{ message: 'entity does not conform', help: null, code: null, url: null, severity: null }], warnings: [] }),
      () => ({
        type: 'success',
        response: { decision: 'allow', diagnostics: { reason: ['crm-notes'], errors: [{ policyId: 'crm-notes', error: { message: 'overflow', help: null, code: null, url: null, severity: null } }] } },
        warnings: [],
      }),
    ];
    for (const [i, second] of failures.entries()) {
      const sets: string[] = [];
      const e = PolicyEngine.load(DEMO, {
        authorize: (call) => {
          sets.push(call.preparsedPolicySetId);
          return call.preparsedPolicySetId.endsWith('-unheld') ? second(call) : cedar.statefulIsAuthorized(call);
        },
      });
      const d = e.evaluate(note(HELD));
      assert.equal(d.outcome, 'deny', `failure ${i}`);
      assert.deepEqual(d.policyIds, ['rule-of-two']);
      assert.ok(d.reason.startsWith('denied by policy rule-of-two: Rule of Two'), d.reason);
      assert.equal(d.errors?.length, 1, `failure ${i}: ${JSON.stringify(d.errors)}`);
      assert.equal(d.approval, undefined);
      assert.deepEqual(sets, [sets[0], `${sets[0]}-unheld`]);
    }
  });
});

describe('holds beyond the demo', () => {
  const policies = `@id("send") permit (principal, action, resource);
@id("b-hold") @reason("b") @approval("leads") forbid (principal, action, resource) when { context.labels.level >= 2 };
@id("a-hold") @approval("security") @quorum("2") @expires("1h") forbid (principal, action, resource) when { context.labels.level >= 3 };
@id("c-hold") @approval("ops") @quorum("2") forbid (principal, action, resource) when { context.labels.level >= 3 };
`;
  const e = PolicyEngine.load(dirWith(policies));
  const at = (level: number) => send({ labels: { ...labelsOf(), level } });

  test('the strictest hold applies: the largest quorum, ties to the first id; the reason names every hold', () => {
    const one = e.evaluate(at(2));
    assertHeld(one, ['b-hold', 'send'], { group: 'leads', quorum: 1 });
    assert.match(one.reason, /^held by policy b-hold: b; x\.send needs approval by a member of leads \(policy b-hold\) \(run labels: /);
    const three = e.evaluate(at(3));
    assertHeld(three, ['a-hold', 'b-hold', 'c-hold', 'send'], { group: 'security', quorum: 2, expiresAfterMs: H });
    assert.match(three.reason, /^held by policies a-hold, b-hold, c-hold: b; x\.send needs approval by 2 distinct members of security, expiring after 1h \(policy a-hold\)/);
    assert.equal(e.evaluate(at(1)).outcome, 'allow');
  });

  test('a set without holds is asked once, under its own id only', () => {
    const sets: string[] = [];
    const plain = PolicyEngine.load(dirWith('@id("send") permit (principal, action, resource);\n@id("f") forbid (principal, action, resource) when { context.labels.level >= 2 };'), {
      authorize: (call) => {
        sets.push(call.preparsedPolicySetId);
        return cedar.statefulIsAuthorized(call);
      },
    });
    assert.equal(plain.evaluate(at(2)).outcome, 'deny');
    assert.equal(sets.length, 1);
    assert.ok(!sets[0].endsWith('-unheld'));
  });

  test('the demo schema declares labels on every action and the three declassified writes', () => {
    const schema = readFileSync(join(DEMO, 'schema.cedarschema'), 'utf8');
    assert.equal((schema.match(/appliesTo/g) ?? []).length, (schema.match(/labels: Labels/g) ?? []).length);
    assert.equal((schema.match(/in \[write, declassified\]/g) ?? []).length, 3);
  });
});
