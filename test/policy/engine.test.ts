// Policy engine (Cedar): the demo policies' decisions at every boundary, located load errors,
// content versions, and fail-closed evaluation.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PolicyEngine, PolicyError, toDecimalString, type PolicyDecision, type PolicyRequest } from '../../src/policy/engine.js';

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '../../examples/policies');
const root = mkdtempSync(join(tmpdir(), 'airlock-policy-'));
let n = 0;

/** A copy of the demo policy directory, changed by `edit`. */
function demoCopy(edit: (dir: string) => void = () => {}): string {
  const dir = join(root, `d${n++}`);
  cpSync(DEMO, dir, { recursive: true });
  edit(dir);
  return dir;
}
/** A directory with exactly these files. */
function dirWith(files: Record<string, string>): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
function replaceIn(dir: string, file: string, from: string, to: string): void {
  const p = join(dir, file);
  const text = readFileSync(p, 'utf8');
  assert.ok(text.includes(from), `${file} contains ${from}`);
  writeFileSync(p, text.replace(from, to));
}
/** 1-based line of the first line containing `marker`. */
function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `marker ${marker} not found`);
  return i + 1;
}
function loadError(dir: string): PolicyError {
  try {
    PolicyEngine.load(dir);
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected a PolicyError, got ${err}`);
    assert.ok(err.message.startsWith(`${err.file}${err.line !== undefined ? `:${err.line}` : ''}: `), err.message);
    return err;
  }
  assert.fail(`${dir} loaded`);
}

const H = 3_600_000;
const engine = PolicyEngine.load(DEMO);
const alice = { kind: 'user' as const, id: 'alice', groups: ['support'] };
const WRITE = { readOnly: false, destructive: false, idempotent: false, classification: 'internal' };
const READ = { readOnly: true, destructive: false, idempotent: true, classification: 'internal' };

function req(server: string, tool: string, args: Record<string, unknown>, over: Partial<PolicyRequest> = {}): PolicyRequest {
  return {
    principal: alice,
    agent: 'refund-assistant',
    phase: 'autonomous',
    server,
    tool,
    toolInfo: WRITE,
    args,
    runId: 'run-1',
    now: '2025-03-04T10:15:00.000Z',
    ...over,
  };
}
function refund(amount: unknown, over: Partial<PolicyRequest> = {}, args: Record<string, unknown> = {}): PolicyRequest {
  return req(
    'billing',
    'issue_refund',
    { invoiceId: 'INV-2001', amount, currency: 'USD', reason: 'duplicate charge', idempotencyKey: 'run-1/step-4', ...args },
    { toolInfo: { readOnly: false, destructive: true, idempotent: true, classification: 'confidential' }, ...over },
  );
}
function assertDeny(d: PolicyDecision, reasonPart: string, policyIds: string[] = []): void {
  assert.equal(d.outcome, 'deny', JSON.stringify(d));
  assert.ok(d.reason.includes(reasonPart), `reason "${d.reason}" should include "${reasonPart}"`);
  assert.deepEqual(d.policyIds, policyIds);
  assert.equal(d.approval, undefined);
  assert.equal(d.policyVersion, engine.version);
}

describe('demo policies', () => {
  test('load cleanly, every policy with an @id', () => {
    assert.match(engine.version, /^[0-9a-f]{16}$/);
    assert.deepEqual(engine.warnings, []);
    assert.deepEqual([...engine.policyIds].sort(), [
      'crm-notes',
      'no-write-down',
      'read-only-phase',
      'read-only-tools',
      'refund-dual-finance-approval',
      'refund-edit-same-invoice',
      'refund-finance-approval',
      'refund-over-limit',
      'refund-small',
      'refund-within-refundable',
      'restricted-needs-a-user',
      'rule-of-two',
      'ticket-writes',
    ]);
    assert.match(PolicyEngine.cedarVersion(), /^4\./);
  });

  const oneFinance = { group: 'finance', quorum: 1, expiresAfterMs: 72 * H, escalateTo: 'finance-leads', escalateAfterMs: 24 * H };
  const twoFinance = { ...oneFinance, quorum: 2 };
  const boundaries: [number, PolicyDecision['outcome'], string, typeof oneFinance | undefined][] = [
    [0.01, 'allow', 'refund-small', undefined],
    [500, 'allow', 'refund-small', undefined],
    [500.01, 'require_approval', 'refund-finance-approval', oneFinance],
    [5000, 'require_approval', 'refund-finance-approval', oneFinance],
    [5000.01, 'require_approval', 'refund-dual-finance-approval', twoFinance],
    [20000, 'require_approval', 'refund-dual-finance-approval', twoFinance],
    [20000.01, 'deny', 'refund-over-limit', undefined],
  ];
  for (const [amount, outcome, policyId, approval] of boundaries) {
    test(`refund of ${amount} USD: ${outcome} by ${policyId}`, () => {
      const d = engine.evaluate(refund(amount));
      assert.equal(d.outcome, outcome, JSON.stringify(d));
      assert.deepEqual(d.policyIds, [policyId]);
      assert.deepEqual(d.approval, approval);
      assert.equal(d.errors, undefined);
      assert.equal(d.policyVersion, engine.version);
      assert.ok(d.reason.includes(policyId), d.reason);
    });
  }

  test('an edit keeps the business object: context.edit holds the args as first proposed', () => {
    const first = refund(600).args;
    // Same invoice, smaller amount: decided by its band as usual.
    const smaller = engine.evaluate(refund(400, { edit: first }));
    assert.equal(smaller.outcome, 'allow', JSON.stringify(smaller));
    // Another invoice (or currency) under an approval given for the first: refused, whatever the amount.
    for (const moved of [refund(400, { edit: first }, { invoiceId: 'INV-9999' }), refund(400, { edit: { ...first, currency: 'EUR' } })])
      assertDeny(engine.evaluate(moved), 'not move the refund to another invoice', ['refund-edit-same-invoice']);
    // Without an edit the rule never applies.
    assert.equal(engine.evaluate(refund(400, {}, { invoiceId: 'INV-9999' })).outcome, 'allow');
  });

  test('context.edit must be optional and typed like args', () => {
    const required = demoCopy((dir) => replaceIn(dir, 'schema.cedarschema', 'edit?: RefundArgs', 'edit: RefundArgs'));
    assert.match(loadError(required).message, /context\.edit is present only when an edit is decided; declare it optional/);
    const other = demoCopy((dir) => replaceIn(dir, 'schema.cedarschema', 'edit?: RefundArgs', 'edit?: AccountRef'));
    assert.match(loadError(other).message, /context\.edit must have the same type as context\.args/);
  });

  test('the approval reason says who must approve', () => {
    const d = engine.evaluate(refund(7500));
    assert.match(d.reason, /2 distinct members of finance/);
    assert.match(d.reason, /escalating to finance-leads after 24h/);
    assert.match(d.reason, /expiring after 72h/);
  });

  test('a refund over the limit names the forbid and its @reason', () => {
    const d = engine.evaluate(refund(1_000_000));
    assertDeny(d, 'denied by policy refund-over-limit: refunds above 20000 are never issued by an agent', ['refund-over-limit']);
  });

  test('refunds outside the permitted principal, agent, currency or sign are denied by default', () => {
    const none = 'no policy permits billing.issue_refund';
    assertDeny(engine.evaluate(refund(100, { agent: 'sales-assistant' })), none);
    assertDeny(engine.evaluate(refund(100, { principal: { kind: 'user', id: 'olivia', groups: ['ops'] } })), `${none} for Airlock::User::"olivia"`);
    assertDeny(engine.evaluate(refund(100, {}, { currency: 'EUR' })), none);
    assertDeny(engine.evaluate(refund(0)), none);
    assertDeny(engine.evaluate(refund(-10)), none);
  });

  test('a service account of the support team may refund, and acting for a user is visible to policy', () => {
    const svc = { kind: 'service' as const, id: 'helpdesk-bot', groups: ['support'], onBehalfOf: 'alice' };
    const d = engine.evaluate(refund(120, { principal: svc }));
    assert.equal(d.outcome, 'allow');
    assert.deepEqual(d.policyIds, ['refund-small']);
  });

  test('read-only tools are allowed for anyone', () => {
    const bob = { kind: 'user' as const, id: 'bob', groups: ['finance'] };
    const reads: [string, string, Record<string, unknown>][] = [
      ['crm', 'get_account', { accountId: 'C-1001' }],
      ['crm', 'search_accounts', { query: 'acme', limit: 5 }],
      ['ticketing', 'get_ticket', { ticketId: 'T-5001' }],
      ['billing', 'get_invoice', { invoiceId: 'INV-2001' }],
      ['billing', 'list_invoices', { accountId: 'C-1001', status: 'paid' }],
      ['billing', 'list_refunds', {}],
    ];
    for (const [server, tool, args] of reads) {
      for (const principal of [alice, bob]) {
        const d = engine.evaluate(req(server, tool, args, { principal, toolInfo: READ, agent: 'any-agent' }));
        assert.equal(d.outcome, 'allow', `${server}.${tool}: ${JSON.stringify(d)}`);
        assert.deepEqual(d.policyIds, ['read-only-tools']);
      }
    }
  });

  test('a read tool whose server does not mark it read-only gets no permit', () => {
    assertDeny(engine.evaluate(req('billing', 'get_invoice', { invoiceId: 'INV-2001' }, { toolInfo: WRITE })), 'no policy permits billing.get_invoice');
  });

  test('ticket writes and CRM notes are allowed for support, denied for others', () => {
    const writes: [string, string, Record<string, unknown>, string][] = [
      ['ticketing', 'create_ticket', { accountId: 'C-1001', subject: 'Refund', body: 'Customer asks for a refund', priority: 'normal' }, 'ticket-writes'],
      ['ticketing', 'update_ticket', { ticketId: 'T-5001', status: 'resolved', comment: 'Refund issued.', author: 'agent' }, 'ticket-writes'],
      ['crm', 'add_note', { accountId: 'C-1001', body: 'Refund R-9001 issued', author: 'refund-assistant' }, 'crm-notes'],
    ];
    for (const [server, tool, args, id] of writes) {
      const d = engine.evaluate(req(server, tool, args));
      assert.equal(d.outcome, 'allow', `${server}.${tool}: ${JSON.stringify(d)}`);
      assert.deepEqual(d.policyIds, [id]);
      const lead = engine.evaluate(req(server, tool, args, { principal: { kind: 'user', id: 'dave', groups: ['support-leads'] } }));
      assert.equal(lead.outcome, 'allow');
      assertDeny(engine.evaluate(req(server, tool, args, { principal: { kind: 'user', id: 'olivia', groups: ['ops'] } })), `no policy permits ${server}.${tool}`);
    }
  });

  test('a tool that is not declared in the schema is denied', () => {
    assertDeny(engine.evaluate(req('billing', 'void_invoice', { invoiceId: 'INV-2001' })), 'tool not declared in the policy schema');
    assertDeny(engine.evaluate(req('crm', 'get_account', { accountId: 'C-1001' }, { server: 'hr', toolInfo: READ })), 'tool not declared in the policy schema: hr.get_account');
    // Action groups are not tools.
    assertDeny(engine.evaluate(req('', 'write', {}, { server: 'write', tool: '' })), 'tool not declared in the policy schema');
  });

  test('a declared tool that no policy permits is denied', () => {
    const dir = demoCopy((d) =>
      replaceIn(
        d,
        'schema.cedarschema',
        '  // Billing\n',
        '  // Billing\n  action "billing.void_invoice" in [write] appliesTo {\n    principal: [User, ServiceAccount], resource: Tool,\n    context: { agent: Agent, phase: String, runId: String, now: datetime, labels: Labels, args: InvoiceRef },\n  };\n',
      ),
    );
    const e = PolicyEngine.load(dir);
    const d = e.evaluate(req('billing', 'void_invoice', { invoiceId: 'INV-2001' }));
    assert.equal(d.outcome, 'deny');
    assert.equal(d.reason, 'no policy permits billing.void_invoice for Airlock::User::"alice"');
    assert.deepEqual(d.policyIds, []);
    assert.equal(d.errors, undefined);
  });

  test('guardrails: read-only phase and restricted tools without a user', () => {
    assertDeny(engine.evaluate(refund(100, { phase: 'read-only' })), 'denied by policy read-only-phase: the agent is in the read-only rollout phase', ['read-only-phase']);
    assert.equal(engine.evaluate(req('crm', 'get_account', { accountId: 'C-1001' }, { phase: 'read-only', toolInfo: READ })).outcome, 'allow');
    const restricted = { ...READ, classification: 'restricted' };
    const bot = { kind: 'service' as const, id: 'nightly-sync', groups: [] };
    assertDeny(engine.evaluate(req('crm', 'get_account', { accountId: 'C-1001' }, { principal: bot, toolInfo: restricted })), 'restricted-needs-a-user', ['restricted-needs-a-user']);
    assert.equal(engine.evaluate(req('crm', 'get_account', { accountId: 'C-1001' }, { principal: { ...bot, onBehalfOf: 'alice' }, toolInfo: restricted })).outcome, 'allow');
    assert.equal(engine.evaluate(req('crm', 'get_account', { accountId: 'C-1001' }, { toolInfo: restricted })).outcome, 'allow');
  });

  test('args the schema does not declare are dropped; optional ones may be missing', () => {
    const d = engine.evaluate(refund(42, {}, { notInSchema: { deep: [1, 2] }, reason: undefined, idempotencyKey: undefined }));
    assert.equal(d.outcome, 'allow', JSON.stringify(d));
  });

  test('decimal amounts compare exactly, also given as numeric strings', () => {
    assert.equal(engine.evaluate(refund('500.0000')).outcome, 'allow');
    assert.equal(engine.evaluate(refund('500.0001')).outcome, 'require_approval');
    assert.equal(engine.evaluate(refund(500.0001)).outcome, 'require_approval');
    assert.equal(engine.evaluate(refund(19999.9999)).outcome, 'require_approval');
    assert.equal(engine.evaluate(refund(20000.0001)).outcome, 'deny');
  });
});

describe('fail closed', () => {
  function assertErrorDeny(d: PolicyDecision, reasonPart: string, errorPart: string): void {
    assert.equal(d.outcome, 'deny', JSON.stringify(d));
    assert.ok(d.reason.includes(reasonPart), `reason "${d.reason}" should include "${reasonPart}"`);
    assert.ok(d.errors && d.errors.length > 0, 'errors are reported');
    assert.ok(
      d.errors!.some((e) => e.includes(errorPart)),
      `errors ${JSON.stringify(d.errors)} should include "${errorPart}"`,
    );
    assert.equal(d.approval, undefined);
  }

  test('malformed args for a declared type deny with errors', () => {
    const fit = 'request does not fit the policy schema for billing.issue_refund';
    assertErrorDeny(engine.evaluate(refund('abc')), fit, 'args.amount is not a plain decimal number');
    assertErrorDeny(engine.evaluate(refund(true)), fit, 'args.amount must be a decimal number, got a boolean');
    assertErrorDeny(engine.evaluate(refund(100.12345)), fit, 'more than 4 fractional digits');
    assertErrorDeny(engine.evaluate(refund(0.1 + 0.2)), fit, 'more than 4 fractional digits');
    assertErrorDeny(engine.evaluate(refund(1e21)), fit, 'args.amount');
    assertErrorDeny(engine.evaluate(refund('1000000000000000')), fit, "out of Cedar's decimal range");
    assertErrorDeny(engine.evaluate(refund(undefined)), fit, 'args.amount is required by the policy schema');
    assertErrorDeny(engine.evaluate(refund(10, {}, { currency: 840 })), fit, 'args.currency must be a string');
    const search = (limit: unknown) => req('crm', 'search_accounts', { query: 'acme', limit }, { toolInfo: READ });
    assertErrorDeny(engine.evaluate(search(2.5)), 'request does not fit', 'args.limit must be an integer (Long)');
    assert.equal(engine.evaluate(search(10)).outcome, 'allow');
  });

  test('a bad timestamp or principal kind denies with errors', () => {
    assertErrorDeny(engine.evaluate(refund(10, { now: 'yesterday' })), 'policy engine error', 'now is not an ISO timestamp');
    assertErrorDeny(engine.evaluate(refund(10, { principal: { kind: 'robot' as 'user', id: 'r', groups: [] } })), 'policy engine error', 'unknown principal kind');
  });

  test('an exception inside the Cedar call (injected authorizer) denies with errors', () => {
    const e = PolicyEngine.load(DEMO, {
      authorize: () => {
        throw new Error('wasm trapped');
      },
    });
    const d = e.evaluate(refund(10));
    assertErrorDeny(d, 'policy engine error: wasm trapped', 'wasm trapped');
    assert.equal(d.policyVersion, e.version);
  });

  test('a Cedar failure answer or an errored policy denies with errors (injected authorizer)', () => {
    let seen: unknown;
    const e = PolicyEngine.load(DEMO, {
      authorize: (call) => {
        seen = call;
        return { type: 'failure', errors: [{ message: 'entity does not conform', help: null, code: null, url: null, severity: null }], warnings: [] };
      },
    });
    // The authorizer changes how calls are answered, not what was loaded.
    assert.equal(e.version, engine.version);
    assertErrorDeny(e.evaluate(refund(10)), 'policy evaluation failed for billing.issue_refund', 'entity does not conform');
    // The call carries the decimal exactly and the typed context.
    const call = seen as { context: { args: { amount: unknown }; agent: unknown }; action: unknown };
    assert.deepEqual(call.context.args.amount, { __extn: { fn: 'decimal', arg: '10.0' } });
    assert.deepEqual(call.context.agent, { __entity: { type: 'Airlock::Agent', id: 'refund-assistant' } });
    assert.deepEqual(call.action, { type: 'Airlock::Action', id: 'billing.issue_refund' });

    const errored = PolicyEngine.load(DEMO, {
      authorize: () => ({
        type: 'success',
        response: {
          decision: 'allow',
          diagnostics: { reason: ['refund-small'], errors: [{ policyId: 'refund-over-limit', error: { message: 'overflow', help: null, code: null, url: null, severity: null } }] },
        },
        warnings: [],
      }),
    });
    const d = errored.evaluate(refund(10));
    assertErrorDeny(d, 'policy evaluation error (fail closed)', 'policy refund-over-limit: overflow');
    assert.deepEqual(d.policyIds, ['refund-over-limit']);
  });

  test('a real evaluation error in Cedar (Long overflow) denies with errors', () => {
    const dir = dirWith({
      'schema.cedarschema': MINI_SCHEMA,
      'p.cedar': '@id("overflowing")\npermit (principal, action == Airlock::Action::"x.search", resource)\nwhen { context.args.limit + 9223372036854775807 > 0 };\n',
    });
    const e = PolicyEngine.load(dir);
    const d = e.evaluate(req('x', 'search', { limit: 5 }, { toolInfo: READ }));
    assertErrorDeny(d, 'policy evaluation error (fail closed)', 'overflowing');
    assert.deepEqual(d.policyIds, ['overflowing']);
  });
});

/** A minimal schema: only what its policies need (undeclared context fields and attrs are dropped). */
const MINI_SCHEMA = `namespace Airlock {
  entity User { groups: Set<String> };
  entity ServiceAccount { groups: Set<String> };
  entity Agent;
  entity Tool;
  action "x.search" appliesTo {
    principal: [User, ServiceAccount], resource: Tool,
    context: { now: datetime, hourUtc: Long, weekdayUtc: String, args: { limit: Long } },
  };
  action "x.pay" appliesTo { principal: [User], resource: Tool, context: { args: { amount: decimal } } };
}
`;

describe('semantics beyond the demo', () => {
  test('time context: now, hourUtc and weekdayUtc', () => {
    const e = PolicyEngine.load(
      dirWith({
        'schema.cedarschema': MINI_SCHEMA,
        'p.cedar': `@id("business-hours")
permit (principal, action == Airlock::Action::"x.search", resource)
when {
  ["mon", "tue", "wed", "thu", "fri"].contains(context.weekdayUtc) &&
  context.hourUtc >= 9 && context.hourUtc < 17 &&
  context.now < datetime("2030-01-01")
};
`,
      }),
    );
    const at = (now: string) => e.evaluate(req('x', 'search', { limit: 1 }, { now, toolInfo: READ })).outcome;
    assert.equal(at('2025-03-04T10:15:00.000Z'), 'allow'); // Tuesday
    assert.equal(at('2025-03-04T17:00:00Z'), 'deny');
    assert.equal(at('2025-03-08T10:15:00.000Z'), 'deny'); // Saturday
    assert.equal(at('2030-03-05T10:15:00.000Z'), 'deny');
  });

  test('the schema decides which principals may call a tool', () => {
    const e = PolicyEngine.load(dirWith({ 'schema.cedarschema': MINI_SCHEMA, 'p.cedar': 'permit (principal, action, resource);\n' }));
    assert.equal(e.evaluate(req('x', 'pay', { amount: 1 })).outcome, 'allow');
    const d = e.evaluate(req('x', 'pay', { amount: 1 }, { principal: { kind: 'service', id: 's', groups: [] } }));
    assert.equal(d.outcome, 'deny');
    assert.match(d.reason, /does not allow Airlock::ServiceAccount principals to call x\.pay/);
    // Without @id a policy is named file:index.
    assert.deepEqual(e.evaluate(req('x', 'pay', { amount: 1 })).policyIds, ['p.cedar:0']);
  });

  test('several approval policies: the largest quorum wins, ties keep the first by id; a plain permit wins over both', () => {
    const policies = (extra: string) =>
      dirWith({
        'schema.cedarschema': MINI_SCHEMA,
        'p.cedar': `@id("b-two") @approval("finance") @quorum("2")
permit (principal, action == Airlock::Action::"x.pay", resource) when { context.args.amount.greaterThan(decimal("10.0")) };
@id("a-three") @approval("controllers") @quorum("3") @expires("3d")
permit (principal, action == Airlock::Action::"x.pay", resource) when { context.args.amount.greaterThan(decimal("100.0")) };
@id("c-three") @approval("audit") @quorum("3")
permit (principal, action == Airlock::Action::"x.pay", resource) when { context.args.amount.greaterThan(decimal("100.0")) };
${extra}`,
      });
    const e = PolicyEngine.load(policies(''));
    const small = e.evaluate(req('x', 'pay', { amount: 50 }));
    assert.equal(small.outcome, 'require_approval');
    assert.deepEqual(small.approval, { group: 'finance', quorum: 2 });
    const big = e.evaluate(req('x', 'pay', { amount: 500 }));
    assert.equal(big.outcome, 'require_approval');
    assert.deepEqual(big.approval, { group: 'controllers', quorum: 3, expiresAfterMs: 72 * H });
    assert.deepEqual(big.policyIds, ['a-three', 'b-two', 'c-three']);
    assert.match(big.reason, /\(policy a-three\)/);

    const withPlain = PolicyEngine.load(policies('@id("plain")\npermit (principal, action, resource);\n'));
    const d = withPlain.evaluate(req('x', 'pay', { amount: 500 }));
    assert.equal(d.outcome, 'allow');
    assert.deepEqual(d.policyIds, ['plain']);
    assert.equal(d.approval, undefined);
  });
});

describe('load errors name the file and line', () => {
  test('a syntax error in one policy file', () => {
    const dir = demoCopy((d) =>
      appendFileSync(join(d, 'support-desk.cedar'), '\n// a broken rule\n@id("broken")\npermit (principal, action, resource)\nwhen { principal.groups.contains("x") && };\n'),
    );
    const text = readFileSync(join(dir, 'support-desk.cedar'), 'utf8');
    const err = loadError(dir);
    assert.equal(err.file, join(dir, 'support-desk.cedar'));
    assert.equal(err.line, lineOf(text, '&& }'));
    assert.match(err.message, /unexpected token/);
  });

  test('a policy that violates the schema (unknown attribute), after multi-byte text', () => {
    const text = '// Übersicht — € policies 😀\n@id("uses-owner")\npermit (principal, action, resource)\nwhen {\n  resource.classification == "public" &&\n  resource.owner == "finance"\n};\n';
    const dir = demoCopy((d) => writeFileSync(join(d, 'zz-extra.cedar'), text));
    const err = loadError(dir);
    assert.equal(err.file, join(dir, 'zz-extra.cedar'));
    assert.equal(err.line, 6);
    assert.match(err.message, /attribute `owner` on entity type `Airlock::Tool` not found/);
  });

  test('a policy reading args its action does not declare', () => {
    const dir = demoCopy((d) =>
      replaceIn(
        d,
        'refunds.cedar',
        'context.args.currency == "USD" &&\n  context.args.amount.greaterThan(decimal("0.0"))',
        'context.args.currency == "USD" &&\n  context.args.customerTier == "gold" &&\n  context.args.amount.greaterThan(decimal("0.0"))',
      ),
    );
    const err = loadError(dir);
    assert.equal(err.file, join(dir, 'refunds.cedar'));
    assert.equal(err.line, lineOf(readFileSync(join(dir, 'refunds.cedar'), 'utf8'), 'customerTier'));
    assert.match(err.message, /customerTier/);
  });

  const annotationCases: [string, string, string, RegExp][] = [
    ['bad quorum', '@quorum("2")', '@quorum("two")', /@quorum must be a whole number from 1 to 100, got "two"/],
    ['zero quorum', '@quorum("2")', '@quorum("0")', /@quorum must be a whole number/],
    ['bad duration', '@quorum("2")\n@expires("72h")', '@quorum("2")\n@expires("3 days")', /@expires: invalid duration "3 days"/],
    [
      'bad escalation delay',
      '@quorum("2")\n@expires("72h")\n@escalate_to("finance-leads")\n@escalate_after("24h")',
      '@quorum("2")\n@expires("72h")\n@escalate_to("finance-leads")\n@escalate_after("1.5h")',
      /@escalate_after: invalid duration/,
    ],
    [
      'escalation after expiry',
      '@quorum("2")\n@expires("72h")\n@escalate_to("finance-leads")\n@escalate_after("24h")',
      '@quorum("2")\n@expires("72h")\n@escalate_to("finance-leads")\n@escalate_after("4d")',
      /must be shorter than @expires/,
    ],
    ['misspelt annotation', '@approval("finance")\n@quorum("2")', '@aproval("finance")\n@quorum("2")', /unknown annotation @aproval/],
    ['empty group', '@approval("finance")\n@quorum("2")', '@approval("")\n@quorum("2")', /@approval must name a group/],
  ];
  for (const [name, from, to, message] of annotationCases) {
    test(`annotation: ${name}`, () => {
      const dir = demoCopy((d) => replaceIn(d, 'refunds.cedar', from, to));
      const text = readFileSync(join(dir, 'refunds.cedar'), 'utf8');
      const err = loadError(dir);
      assert.equal(err.file, join(dir, 'refunds.cedar'));
      const changed = to.split('\n').find((l, i) => l !== from.split('\n')[i])!;
      assert.equal(err.line, text.split('\n').indexOf(changed) + 1, err.message);
      assert.match(err.message, message);
    });
  }

  test('annotation rules: approval on a hold is checked as on a permit, details only with approval, escalation needs both', () => {
    const cases: [string, number, RegExp][] = [
      ['@id("f")\n@approval("finance")\n@quorum("0")\nforbid (principal, action, resource);\n', 3, /@quorum must be a whole number/],
      ['@id("q")\n\n@quorum("2")\npermit (principal, action, resource);\n', 3, /@quorum needs @approval/],
      ['@id("e")\n@approval("finance")\n@escalate_to("finance-leads")\npermit (principal, action, resource);\n', 3, /@escalate_to and @escalate_after go together/],
      ['@id("v")\n@approval\npermit (principal, action, resource);\n', 2, /@approval needs a value/],
      ['permit (principal, action, resource);\n\n@id("t")\npermit (principal == ?principal, action, resource);\n', 4, /template/],
      ['\n@id("refund-small")\npermit (principal, action, resource);\n', 2, /duplicate policy id "refund-small"/],
    ];
    for (const [text, line, message] of cases) {
      const dir = demoCopy((d) => writeFileSync(join(d, 'zz.cedar'), text));
      const err = loadError(dir);
      assert.equal(err.file, join(dir, 'zz.cedar'), text);
      assert.equal(err.line, line, `${text}: ${err.message}`);
      assert.match(err.message, message);
    }
  });

  test('missing schema, missing directory, no policies', () => {
    const noSchema = demoCopy((d) => rmSync(join(d, 'schema.cedarschema')));
    const err = loadError(noSchema);
    assert.equal(err.file, join(noSchema, 'schema.cedarschema'));
    assert.match(err.message, /schema file not found/);
    assert.match(loadError(join(root, 'does-not-exist')).message, /policy directory not found/);
    assert.match(loadError(dirWith({ 'schema.cedarschema': MINI_SCHEMA })).message, /no policy files/);
  });

  test('schema errors: syntax, unknown type, attributes and context Airlock does not supply', () => {
    const cases: [string, string, string, RegExp][] = [
      ['action read;', 'action read', 'action write;', /unexpected token/],
      ['amount: decimal', 'amount: Decimal', 'amount: Decimal', /failed to resolve type/],
      ['    name: String,\n    readOnly: Bool,', '    name: String,\n    owner: String,\n    readOnly: Bool,', 'owner: String', /entity Tool declares attribute owner, which Airlock does not supply/],
      ['    onBehalfOf?: String,', '    onBehalfOf: String,', 'onBehalfOf: String', /declare it optional/],
      ['args: TicketRef }', 'args: TicketRef, tenant: String }', 'tenant: String', /context field tenant is not supplied by Airlock/],
      [
        'now: datetime, labels: Labels, args: RefundArgs',
        'now: String, labels: Labels, args: RefundArgs',
        'now: String, labels: Labels, args: RefundArgs',
        /context.now must have type datetime, not String/,
      ],
    ];
    for (const [from, to, marker, message] of cases) {
      const dir = demoCopy((d) => replaceIn(d, 'schema.cedarschema', from, to));
      const err = loadError(dir);
      assert.equal(err.file, join(dir, 'schema.cedarschema'));
      assert.equal(err.line, lineOf(readFileSync(join(dir, 'schema.cedarschema'), 'utf8'), marker), err.message);
      assert.match(err.message, message);
    }
    const other = loadError(demoCopy((d) => replaceIn(d, 'schema.cedarschema', 'namespace Airlock', 'namespace Acme')));
    assert.match(other.message, /namespace Airlock/);
  });
});

describe('version', () => {
  test('is stable for the same content, and ignores comments and whitespace', () => {
    assert.equal(PolicyEngine.load(DEMO).version, engine.version);
    assert.equal(PolicyEngine.load(demoCopy()).version, engine.version);
    const cosmetic = demoCopy((d) => {
      appendFileSync(join(d, 'refunds.cedar'), '\n\n// reviewed by finance, Q3\n');
      replaceIn(
        d,
        'support-desk.cedar',
        'permit (principal, action == Airlock::Action::"crm.add_note", resource)',
        'permit (\n  principal,\n  action == Airlock::Action::"crm.add_note",\n  resource\n)',
      );
    });
    assert.equal(PolicyEngine.load(cosmetic).version, engine.version);
  });

  test('changes when a rule, an annotation or the schema changes', () => {
    const versions = new Set([engine.version]);
    const edits: [string, string, string][] = [
      ['refunds.cedar', 'lessThanOrEqual(decimal("500.00"))', 'lessThanOrEqual(decimal("600.00"))'],
      ['refunds.cedar', '@quorum("2")', '@quorum("3")'],
      ['refunds.cedar', '@id("refund-small")', '@id("refund-small-v2")'],
      ['schema.cedarschema', 'reason?: String,', 'reason?: String,\n    note?: String,'],
    ];
    for (const [file, from, to] of edits) {
      const e = PolicyEngine.load(demoCopy((d) => replaceIn(d, file, from, to)));
      assert.ok(!versions.has(e.version), `${file}: ${from} → ${to} gives a new version`);
      versions.add(e.version);
      assert.equal(e.evaluate(refund(10)).policyVersion, e.version);
    }
    // A new policy file changes it too.
    const added = PolicyEngine.load(demoCopy((d) => writeFileSync(join(d, 'zz.cedar'), '@id("extra")\nforbid (principal, action, resource) when { context.agent == Airlock::Agent::"rogue" };\n')));
    assert.ok(!versions.has(added.version));
  });
});

describe('helpers', () => {
  test('toDecimalString is exact or refuses', () => {
    assert.equal(toDecimalString(500), '500.0');
    assert.equal(toDecimalString(500.01), '500.01');
    assert.equal(toDecimalString(20000.0001), '20000.0001');
    assert.equal(toDecimalString('0012.50'), '12.5');
    assert.equal(toDecimalString(-0), '0.0');
    assert.equal(toDecimalString(-3.5), '-3.5');
    assert.equal(toDecimalString('922337203685477.5807'), '922337203685477.5807');
    assert.equal(toDecimalString('-922337203685477.5808'), '-922337203685477.5808');
    for (const bad of ['922337203685477.5808', '1.23456', '1e3', '', ' ', '.5', '5.', 'NaN', NaN, Infinity, 1e21, 1e-5, null, {}]) {
      assert.throws(() => toDecimalString(bad), Error, `rejects ${String(bad)}`);
    }
  });
});
