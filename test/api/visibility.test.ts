// The run list's visibility queries and cursors, without Temporal: escaping, who is narrowed to their own runs,
// statuses of runs that closed without saying how, and cursors bound to their query.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { SA } from '../../workflows/definitions.js';
import type { Principal } from '../../src/core/types.js';
import { ApiError } from '../../src/api/errors.js';
import { decodeCursor, encodeCursor, literal, RUNS, runsQuery, statusOf } from '../../src/api/visibility.js';

const who = (subject: string, roles: string[]): Principal => ({ subject, kind: 'user', groups: [], roles });

test('values are quoted literals: a quote or backslash never ends them', () => {
  assert.equal(literal('alice'), "'alice'");
  assert.equal(literal("o'brien"), "'o\\'brien'");
  assert.equal(literal('x\\'), "'x\\\\'");
  assert.equal(literal("x\\' OR 1=1"), "'x\\\\\\' OR 1=1'");
});

test('requesters are narrowed to their own runs; operators, admins and approvers list any', () => {
  assert.equal(runsQuery({}, who('alice', ['requester'])), `${RUNS} AND AirlockRequester = 'alice'`);
  assert.equal(runsQuery({ requester: 'alice' }, who('alice', ['requester'])), `${RUNS} AND AirlockRequester = 'alice'`);
  assert.throws(
    () => runsQuery({ requester: 'bob' }, who('alice', ['requester'])),
    (e: unknown) => e instanceof ApiError && e.status === 403,
  );
  for (const role of ['operator', 'admin', 'approver']) assert.equal(runsQuery({}, who('x', [role])), RUNS);
  const q = runsQuery({ agent: 'refund-assistant', status: 'awaiting_approval', from: '2026-01-01T00:00:00.000Z' }, who('olivia', ['operator']));
  assert.equal(q, `${RUNS} AND AirlockAgent = 'refund-assistant' AND AirlockStatus = 'awaiting_approval' AND ExecutionStatus = 'Running' AND StartTime >= '2026-01-01T00:00:00.000Z'`);
});

test("a run's status: its search attribute, or how the workflow closed when that still said open", () => {
  const info = (name: WorkflowExecutionStatusName, status?: string) => ({
    status: { code: 0, name },
    typedSearchAttributes: new TypedSearchAttributes(status ? [{ key: SA.status, value: status }] : []),
  });
  assert.equal(statusOf(info('RUNNING', 'awaiting_approval')), 'awaiting_approval');
  assert.equal(statusOf(info('RUNNING')), 'running');
  assert.equal(statusOf(info('FAILED', 'rejected')), 'rejected');
  assert.equal(statusOf(info('TERMINATED', 'awaiting_approval')), 'failed');
  assert.equal(statusOf(info('CANCELLED', 'running')), 'cancelled');
});

test('a cursor resumes where its page ended, and only for the query it came from', () => {
  const at = { token: Buffer.from([1, 2, 3, 250]), run: 4, item: 2 };
  const c = encodeCursor('q1', at);
  assert.match(c, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor('q1', c), at);
  assert.deepEqual(decodeCursor('q1', undefined), { token: Buffer.alloc(0), run: 0, item: 0 });
  for (const bad of [() => decodeCursor('q2', c), () => decodeCursor('q1', 'garbage'), () => decodeCursor('q1', Buffer.from('{"q":1}').toString('base64url'))])
    assert.throws(bad, (e: unknown) => e instanceof ApiError && e.status === 400);
});
