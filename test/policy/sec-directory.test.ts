// The policy directory fails closed: a `*.cedar` entry (or the schema) that is not a readable file stops the
// whole set from loading, at startup and on reload, instead of being skipped with the rules it held.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PolicyEngine, PolicyError, type PolicyRequest } from '../../src/policy/engine.js';
import { PolicySource } from '../../src/policy/source.js';

const root = mkdtempSync(join(tmpdir(), 'airlock-sec-policy-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const SCHEMA = `namespace Airlock {
  entity User { groups: Set<String> };
  entity ServiceAccount { groups: Set<String> };
  entity Agent;
  entity Tool;
  action "x.pay" appliesTo { principal: [User], resource: Tool, context: { args: { amount: Long } } };
}
`;
const ALLOW = `@id("pay") permit (principal, action == Airlock::Action::"x.pay", resource);\n`;
const LIMIT = `@id("pay-limit") forbid (principal, action == Airlock::Action::"x.pay", resource) when { context.args.amount > 100 };\n`;

/** allow.cedar permits every payment; limits.cedar forbids those above 100. */
function policyDir(): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'schema.cedarschema'), SCHEMA);
  writeFileSync(join(dir, 'allow.cedar'), ALLOW);
  writeFileSync(join(dir, 'limits.cedar'), LIMIT);
  return dir;
}

const pay = (amount: number): PolicyRequest => ({
  principal: { kind: 'user', id: 'alice', groups: [] },
  agent: 'a',
  phase: 'autonomous',
  server: 'x',
  tool: 'pay',
  toolInfo: { readOnly: false, destructive: false, idempotent: false, classification: 'internal' },
  args: { amount },
  runId: 'run-1',
  now: '2026-11-30T12:00:00Z',
});

/** Ways an entry can look like a policy file yet not be one that can be read. */
const BROKEN: Array<{ name: string; make(path: string): void; says: RegExp }> = [
  { name: 'a directory', make: (p) => mkdirSync(p), says: /is a directory/ },
  { name: 'a dangling symlink', make: (p) => symlinkSync(join(root, 'no-such-target.cedar'), p), says: /symlink whose target does not exist/ },
  { name: 'a symlink loop', make: (p) => symlinkSync(p, p), says: /symlink loop/ },
];

function loadError(dir: string): PolicyError {
  try {
    PolicyEngine.load(dir);
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected a PolicyError, got ${err}`);
    return err;
  }
  assert.fail(`${dir} loaded`);
}

/** The error names the entry, says what is wrong and how to fix it, on one line. */
function assertNames(err: PolicyError, path: string, says: RegExp): void {
  assert.equal(err.file, path);
  assert.ok(err.message.startsWith(`${path}: `), err.message);
  assert.match(err.message, says);
  assert.match(err.message, /must be a readable file/);
  assert.doesNotMatch(err.message, /\n/);
}

describe('policy directory: every *.cedar entry and the schema must load', () => {
  test('the intact directory denies what limits.cedar forbids', () => {
    const d = PolicyEngine.load(policyDir()).evaluate(pay(500));
    assert.deepEqual([d.outcome, d.policyIds], ['deny', ['pay-limit']]);
  });

  for (const b of BROKEN) {
    test(`limits.cedar replaced by ${b.name}: the whole set refuses to load, naming it and the fix`, () => {
      const dir = policyDir();
      const path = join(dir, 'limits.cedar');
      rmSync(path);
      b.make(path);
      const err = loadError(dir);
      assertNames(err, path, b.says);
      assert.match(err.message, /remove the entry \(or rename it without the \.cedar suffix\)/);
    });

    test(`the schema replaced by ${b.name} is named too`, () => {
      const dir = policyDir();
      const path = join(dir, 'schema.cedarschema');
      rmSync(path);
      b.make(path);
      assertNames(loadError(dir), path, b.says);
    });
  }

  test('a file without read permission is named', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, () => {
    const dir = policyDir();
    const path = join(dir, 'limits.cedar');
    chmodSync(path, 0o000);
    assertNames(loadError(dir), path, /permission denied/);
  });

  test('a symlink to a readable policy file is a policy file', () => {
    const dir = policyDir();
    const target = join(root, `limits-${n++}.txt`);
    renameSync(join(dir, 'limits.cedar'), target);
    symlinkSync(target, join(dir, 'limits.cedar'));
    const d = PolicyEngine.load(dir).evaluate(pay(500));
    assert.deepEqual([d.outcome, d.policyIds], ['deny', ['pay-limit']]);
  });

  test('entries that do not look like policies are still ignored', () => {
    const dir = policyDir();
    mkdirSync(join(dir, 'drafts'));
    symlinkSync(join(root, 'gone'), join(dir, 'README.md'));
    assert.deepEqual(PolicyEngine.load(dir).policyIds, ['pay', 'pay-limit']);
  });

  test('a source whose directory holds a broken entry at startup does not start', () => {
    const dir = policyDir();
    const path = join(dir, 'limits.cedar');
    rmSync(path);
    symlinkSync(join(root, 'no-such-target.cedar'), path);
    assert.throws(
      () => new PolicySource(dir),
      (err: unknown) => err instanceof PolicyError && err.file === path,
    );
  });
});

describe('policy source reload: a broken entry fails closed, never a smaller set', () => {
  for (const b of BROKEN) {
    test(`limits.cedar replaced by ${b.name} while running: every decision is denied until it is restored`, () => {
      const dir = policyDir();
      const path = join(dir, 'limits.cedar');
      const source = new PolicySource(dir);
      const before = source.current();
      assert.ok(before instanceof PolicyEngine);
      assert.equal(before.evaluate(pay(500)).outcome, 'deny');

      rmSync(path);
      b.make(path);
      const broken = source.current();
      assert.ok(broken instanceof PolicyError, `expected the reload to fail, got ${broken instanceof PolicyEngine ? `policies ${broken.policyIds.join(', ')}` : broken}`);
      assertNames(broken, path, b.says);
      assert.ok(source.current() instanceof PolicyError, 'stays failed while the entry is broken');

      rmSync(path, { recursive: true });
      writeFileSync(path, LIMIT);
      const fixed = source.current();
      assert.ok(fixed instanceof PolicyEngine, String(fixed));
      assert.deepEqual(fixed.evaluate(pay(500)).policyIds, ['pay-limit']);
      assert.equal(fixed.evaluate(pay(50)).outcome, 'allow');
    });
  }
});
