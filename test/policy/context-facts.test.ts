// `context.facts`: what a run learned earlier, as its agent declares it, seen by policy. The demo refuses a refund
// above the refundable amount of the invoice the run read, and leaves other calls to the other rules.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PolicyEngine, PolicyError, type PolicyRequest } from '../../src/policy/engine.js';

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '../../examples/policies');
const engine = PolicyEngine.load(DEMO);
const invoice = (refundableAmount: unknown, invoiceId = 'INV-2001') => ({ invoiceId, accountId: 'C-1001', amount: 1250, currency: 'USD', status: 'paid', paidAt: null, refundableAmount });

function refund(amount: number, facts?: Record<string, unknown>, edit?: Record<string, unknown>): PolicyRequest {
  return {
    principal: { kind: 'user', id: 'alice', groups: ['support'] },
    agent: 'refund-assistant',
    phase: 'autonomous',
    server: 'billing',
    tool: 'issue_refund',
    toolInfo: { readOnly: false, destructive: true, idempotent: true, classification: 'restricted' },
    args: { invoiceId: 'INV-2001', amount, currency: 'USD', reason: 'duplicate', idempotencyKey: 'run-1/step-3' },
    ...(facts ? { facts } : {}),
    ...(edit ? { edit } : {}),
    runId: 'run-1',
    now: '2025-03-04T10:15:00.000Z',
  };
}

describe('context.facts (demo refund rules)', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-facts-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a refund above the refundable amount of the invoice the run read is denied, before any approval', () => {
    const d = engine.evaluate(refund(6000, { invoice: invoice(1250) }));
    assert.deepEqual([d.outcome, d.policyIds], ['deny', ['refund-within-refundable']]);
    assert.match(d.reason, /more than the invoice can still refund/);
    // Exactly the refundable amount, in decimals, is not above it.
    assert.equal(engine.evaluate(refund(1250, { invoice: invoice(1250) })).outcome, 'require_approval');
    assert.equal(engine.evaluate(refund(1250.01, { invoice: invoice(1250) })).outcome, 'deny');
    // An approver's edit is decided with the same facts.
    const edit = engine.evaluate(refund(1300, { invoice: invoice(1250) }, refund(1250).args));
    assert.deepEqual(edit.policyIds, ['refund-within-refundable']);
  });

  test('no facts, or facts about another invoice: the other rules decide', () => {
    assert.equal(engine.evaluate(refund(6000)).outcome, 'require_approval');
    assert.equal(engine.evaluate(refund(6000, {})).outcome, 'require_approval');
    assert.equal(engine.evaluate(refund(6000, { invoice: invoice(1250, 'INV-2002') })).outcome, 'require_approval');
  });

  test('a fact that does not fit its declared type denies the call (fail closed); undeclared facts are dropped', () => {
    const d = engine.evaluate(refund(100, { invoice: invoice('lots') }));
    assert.equal(d.outcome, 'deny');
    assert.match(d.reason, /facts\.invoice\.refundableAmount/);
    assert.equal(engine.evaluate(refund(100, { invoice: invoice(1250), other: { x: 1 } })).outcome, 'allow');
  });

  test('the schema must declare context.facts as a record', () => {
    const dir = join(root, 'bad');
    cpSync(DEMO, dir, { recursive: true });
    const file = join(dir, 'schema.cedarschema');
    writeFileSync(file, readFileSync(file, 'utf8').replace('facts: RefundFacts }', 'facts: String }'));
    assert.throws(
      () => PolicyEngine.load(dir),
      (err: unknown) => err instanceof PolicyError && /context\.facts must be a record type/.test(err.message),
    );
  });
});
