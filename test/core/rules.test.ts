// The core's smaller rules: error codes, durations, canonical digests, tool classes, registry status, run risk and budget.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { callDigest, canonicalJson, digestOf, sha256Hex } from '../../src/core/canonical.js';
import { formatDuration, parseDuration } from '../../src/core/duration.js';
import { AirlockError, ERRORS, ErrorCode, errorSpec, isErrorCode, NON_RETRYABLE } from '../../src/core/errors.js';
import { admissionRefusal, catalogAllows, effectiveStatus, type ServerStatus, type StatusChange } from '../../src/core/registry.js';
import { addUsage, overBudget, raiseRisk } from '../../src/core/run.js';
import { sanitizeJson, sanitizeText } from '../../src/core/sanitize.js';
import { classifyTool, idempotencyKey } from '../../src/core/tools.js';

const H = 3_600_000;

describe('error codes', () => {
  test('every code maps to one retry behaviour, one HTTP status and one wire code', () => {
    const expected: Record<string, [boolean, number, string]> = {
      NotFound: [false, 404, 'not_found'],
      Forbidden: [false, 403, 'forbidden'],
      AlreadyDecided: [false, 409, 'already_decided'],
      Expired: [false, 410, 'expired'],
      InvalidEdit: [false, 422, 'invalid_edit'],
      DigestMismatch: [false, 409, 'digest_mismatch'],
      AuditUnavailable: [true, 503, 'audit_unavailable'],
      PolicyDenied: [false, 403, 'policy_denied'],
      Unauthorized: [false, 401, 'unauthorized'],
      TooLarge: [false, 413, 'too_large'],
      InternalError: [false, 500, 'internal'],
    };
    for (const [code, [retryable, http, wire]] of Object.entries(expected)) {
      assert.ok(isErrorCode(code), code);
      assert.deepEqual([ERRORS[code as ErrorCode].retryable, ERRORS[code as ErrorCode].http, ERRORS[code as ErrorCode].wire], [retryable, http, wire], code);
    }
    for (const [code, spec] of Object.entries(ERRORS)) {
      assert.equal(ErrorCode[code as ErrorCode], code);
      assert.ok(spec.http >= 400 && spec.http < 600, `${code} has an error status`);
      assert.match(spec.wire, /^[a-z_]+$/, `${code} has a snake_case wire code`);
      assert.equal(NON_RETRYABLE.includes(code as ErrorCode), !spec.retryable, `${code} is listed as non-retryable iff it is`);
    }
    const wires = Object.values(ERRORS).map((s) => s.wire);
    assert.equal(new Set(wires).size, wires.length, 'wire codes are unique');
  });

  test('unknown types are internal errors; AirlockError carries its code and spec', () => {
    assert.equal(errorSpec('SomethingElse'), ERRORS.InternalError);
    assert.equal(errorSpec(undefined), ERRORS.InternalError);
    assert.equal(isErrorCode('toString'), false, 'no prototype keys');
    const e = new AirlockError(ErrorCode.Expired, 'too late', { at: 1 });
    assert.equal(e.spec.http, 410);
    assert.deepEqual(e.details, { at: 1 });
  });
});

describe('durations', () => {
  test('parse the grammar, refuse anything else', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('72h'), 72 * H);
    assert.equal(parseDuration('3d'), 72 * H);
    for (const bad of ['0s', '1.5h', 'h', '72', '72H', ' 1h', '1w', '-1h', '']) assert.equal(parseDuration(bad), undefined, bad);
  });
  test('format in the largest exact unit, and round-trip', () => {
    assert.equal(formatDuration(72 * H), '72h');
    assert.equal(formatDuration(30_000), '30s');
    assert.equal(formatDuration(1500), '1500ms');
    assert.equal(formatDuration(14 * 24 * H), '14d');
    for (const ms of [500, 30_000, 900_000, 72 * H, 14 * 24 * H]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});

describe('canonical JSON and digests', () => {
  test('key order does not change the canonical form or the digest; undefined fields are dropped', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: null }], u: undefined }), '{"a":[{"c":null,"d":2}],"b":1}');
    assert.equal(digestOf({ x: 1, y: 'z' }), digestOf({ y: 'z', x: 1 }));
    assert.notEqual(digestOf({ x: 1 }), digestOf({ x: 2 }));
  });
  test('SHA-256 matches the platform implementation', () => {
    for (const s of ['', 'abc', 'é€😀', 'x'.repeat(10_000)]) assert.equal(sha256Hex(s), createHash('sha256').update(s).digest('hex'));
  });
  test('a call digest binds server, tool, args and policy version', () => {
    const base = callDigest('billing', 'issue_refund', { amount: 1 }, 'v1');
    assert.equal(base, callDigest('billing', 'issue_refund', { amount: 1 }, 'v1'));
    for (const other of [
      callDigest('crm', 'issue_refund', { amount: 1 }, 'v1'),
      callDigest('billing', 'x', { amount: 1 }, 'v1'),
      callDigest('billing', 'issue_refund', { amount: 2 }, 'v1'),
      callDigest('billing', 'issue_refund', { amount: 1 }, 'v2'),
    ])
      assert.notEqual(other, base);
  });
});

describe('tool classes', () => {
  test('MCP defaults are cautious: unannotated tools are destructive, non-idempotent writes', () => {
    assert.deepEqual(classifyTool(undefined), { readOnly: false, write: true, idempotent: false, destructive: true });
    assert.deepEqual(classifyTool({ readOnlyHint: true, destructiveHint: true }), { readOnly: true, write: false, idempotent: true, destructive: false });
    assert.deepEqual(classifyTool({ idempotentHint: true, destructiveHint: false }), { readOnly: false, write: true, idempotent: true, destructive: false });
    assert.equal(idempotencyKey('run-1', 3), 'run-1/step-3');
  });
});

describe('registry status', () => {
  const change = (status: StatusChange['status']): StatusChange => ({ status, by: 'admin', at: '2026-01-01T00:00:00Z', reason: 'why' });
  test('a catalog retirement wins; else the runtime change; else the catalog', () => {
    assert.equal(effectiveStatus('retired', change('approved')), 'retired');
    assert.equal(effectiveStatus('approved', change('quarantined')), 'quarantined');
    assert.equal(effectiveStatus('proposed', change('approved')), 'approved');
    assert.equal(effectiveStatus('proposed', null), 'proposed');
  });
  test('a server is admitted exactly when its effective status is approved, with the reason otherwise', () => {
    const statuses: ServerStatus[] = ['proposed', 'approved', 'quarantined', 'retired'];
    for (const catalog of statuses)
      for (const c of [null, change('approved'), change('quarantined'), change('retired')]) {
        const refusal = admissionRefusal('crm', catalog, c);
        assert.equal(refusal === undefined, effectiveStatus(catalog, c) === 'approved', `${catalog} + ${c?.status}`);
      }
    assert.match(admissionRefusal('crm', 'approved', change('quarantined'))!, /was quarantined by admin at .*: why/);
    assert.match(admissionRefusal('crm', 'retired', change('approved'))!, /retired in the catalog/);
    assert.match(admissionRefusal('crm', 'proposed')!, /is proposed in the catalog; only approved servers are called/);
  });
  test('a catalog tool list allows only its tools; no list allows all', () => {
    assert.equal(catalogAllows(undefined, 'x'), true);
    assert.equal(catalogAllows(['a'], 'a'), true);
    assert.equal(catalogAllows(['a'], 'b'), false);
  });
});

describe('run risk and budget', () => {
  test('risk only rises: reads low, allowed writes medium, approvals and denials high', () => {
    assert.equal(raiseRisk('low', { outcome: 'allow', write: false }), 'low');
    assert.equal(raiseRisk('low', { outcome: 'allow', write: true }), 'medium');
    assert.equal(raiseRisk('medium', { outcome: 'require_approval', write: true }), 'high');
    assert.equal(raiseRisk('high', { outcome: 'allow', write: false }), 'high');
  });
  test('usage adds up and the first budget used up is named', () => {
    const u = addUsage(addUsage({ calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 }, { inputTokens: 10, outputTokens: 5, costUsd: 0.1 }), { inputTokens: 1, outputTokens: 1, costUsd: 0.2 });
    assert.deepEqual(u, { calls: 2, inputTokens: 11, outputTokens: 6, costUsd: 0.3 });
    assert.equal(overBudget(undefined, u), undefined);
    assert.equal(overBudget({ tokens: 100 }, u), undefined);
    assert.match(overBudget({ tokens: 17 }, u)!, /used 17 model tokens; its budget is 17/);
    assert.match(overBudget({ costUsd: 0.3 }, u)!, /cost \$0.3; its budget is \$0.3/);
  });
});

describe('sanitizing', () => {
  test('invisible characters are removed from text and from keys and values of JSON, without prototype keys becoming prototypes', () => {
    assert.equal(sanitizeText('pa\u200Bss\u{E0041}'), 'pass');
    const out = sanitizeJson(JSON.parse('{"a\u200B":"b\u202E","__proto__":{"x":1}}')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), ['a', '__proto__']);
    assert.equal(out.a, 'b');
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });
});

describe('data classification', () => {
  test('levels are ordered; a run holds the highest it has seen; clearance covers its level and below', async () => {
    const { maxClassification, clearedFor } = await import('../../src/core/classification.js');
    assert.equal(maxClassification([]), 'public');
    assert.equal(maxClassification(['internal', 'restricted', 'confidential']), 'restricted');
    assert.equal(clearedFor('confidential', 'internal'), true);
    assert.equal(clearedFor('confidential', 'confidential'), true);
    assert.equal(clearedFor('internal', 'restricted'), false);
  });
});

describe('run ids and statuses', () => {
  test('an Idempotency-Key names one run per caller; fresh ids come from the random bytes given; only running, awaiting_approval and awaiting_input are open', async () => {
    const { runIdForKey, runIdFromBytes, isOpen, RUN_STATUSES } = await import('../../src/core/run.js');
    const { runIdOfApproval, approvalIdFor } = await import('../../src/core/approvals.js');
    assert.equal(runIdForKey('alice', 'k1'), runIdForKey('alice', 'k1'));
    assert.notEqual(runIdForKey('alice', 'k1'), runIdForKey('bob', 'k1'));
    assert.match(runIdForKey('alice', 'k1'), /^run-[0-9a-f]{20}$/);
    assert.equal(runIdFromBytes(new Uint8Array(10).fill(255)), 'run-ffffffffffffffffffff');
    const id = runIdForKey('alice', 'k1');
    assert.equal(runIdOfApproval(approvalIdFor(id, 3)), id, 'approval ids lead back to the run id');
    assert.deepEqual(RUN_STATUSES.filter(isOpen), ['running', 'awaiting_approval', 'awaiting_input']);
  });
});
