// Who may answer a question an agent's graph asked (interrupt), and when an answer is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError, ErrorCode } from '../../src/core/errors.js';
import { answer, checkAnswer, inputIdFor, mayAnswer, runIdOfInput } from '../../src/core/inputs.js';
import type { PendingInput } from '../../src/core/types.js';

const asked = (): PendingInput => ({
  inputId: inputIdFor('run-abc', 1),
  value: { question: 'which card?' },
  askedAt: '2026-01-01T00:00:00Z',
  requester: 'alice',
  onBehalfOf: 'erin',
  groups: ['support'],
  status: 'pending',
});
const code = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AirlockError);
    return err.code;
  }
  return undefined;
};

test('input ids lead back to their run', () => {
  assert.equal(inputIdFor('run-abc', 2), 'run-abc.i2');
  assert.equal(runIdOfInput('run-abc.i2'), 'run-abc');
  assert.equal(runIdOfInput('run-abc.a2'), undefined);
});

test('the requester, whoever the run acts for, and members of the named groups may answer; others may not', () => {
  const p = asked();
  assert.equal(mayAnswer(p, { subject: 'alice', groups: [] }), true);
  assert.equal(mayAnswer(p, { subject: 'erin', groups: [] }), true);
  assert.equal(mayAnswer(p, { subject: 'sam', groups: ['support'] }), true);
  assert.equal(mayAnswer(p, { subject: 'bob', groups: ['finance'] }), false);
  assert.equal(
    code(() => checkAnswer(p, { inputId: p.inputId, value: 1, answerer: { subject: 'bob', groups: ['finance'] } })),
    ErrorCode.Forbidden,
  );
});

test('unknown inputs are not found; an answered one is refused as already answered, naming who answered', () => {
  assert.equal(
    code(() => checkAnswer(undefined, { inputId: 'run-abc.i9', value: 1, answerer: { subject: 'alice', groups: [] } })),
    ErrorCode.NotFound,
  );
  const p = asked();
  checkAnswer(p, { inputId: p.inputId, value: 'visa', answerer: { subject: 'alice', groups: [] } });
  answer(p, { inputId: p.inputId, value: 'visa', answerer: { subject: 'alice', groups: [] } }, '2026-01-01T00:01:00Z');
  assert.deepEqual([p.status, p.answer, p.answeredBy], ['answered', 'visa', 'alice']);
  try {
    checkAnswer(p, { inputId: p.inputId, value: 'amex', answerer: { subject: 'alice', groups: [] } });
    assert.fail('accepted twice');
  } catch (err) {
    assert.ok(err instanceof AirlockError && err.code === ErrorCode.AlreadyAnswered && /answered by alice/.test(err.message));
    assert.equal(err.spec.http, 409);
  }
});
