// The API's error contract without Temporal: status and wire code come from the core registry, the
// workflow's refusals map through it, and the HTTP layer's own failures keep their codes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ApiError, decisionRefusal, toApiError } from '../../src/api/errors.js';
import { ERRORS, ErrorCode } from '../../src/core/errors.js';

test('an ApiError takes its status and wire code from the registry', () => {
  for (const code of Object.values(ErrorCode)) {
    const e = new ApiError(code, 'x');
    assert.equal(e.status, ERRORS[code].http);
    assert.equal(e.wire, ERRORS[code].wire);
  }
});

test("the workflow's decision refusals map through the registry; an unknown type is a refusal", () => {
  const refused = (type: string) => decisionRefusal(new WorkflowUpdateFailedError('update failed', ApplicationFailure.create({ type, message: `because ${type}` })));
  assert.deepEqual([refused(ErrorCode.Expired)?.status, refused(ErrorCode.Expired)?.wire, refused(ErrorCode.Expired)?.message], [410, 'expired', 'because Expired']);
  assert.deepEqual([refused(ErrorCode.DigestMismatch)?.status, refused(ErrorCode.DigestMismatch)?.wire], [409, 'digest_mismatch']);
  assert.deepEqual([refused(ErrorCode.Forbidden)?.status, refused(ErrorCode.NotFound)?.status, refused(ErrorCode.InvalidEdit)?.status], [403, 404, 422]);
  assert.deepEqual([refused('SomethingElse')?.status, refused('SomethingElse')?.wire], [422, 'decision_refused']);
  assert.equal(decisionRefusal(new Error('not an update failure')), undefined);
  assert.equal(decisionRefusal(new WorkflowUpdateFailedError('update failed', new Error('no application failure'))), undefined);
});

test('request validation, body-parser failures and anything else', () => {
  const zod = toApiError(z.strictObject({ a: z.string() }).safeParse({ a: 1 }).error);
  assert.deepEqual([zod.status, zod.wire, zod.message], [400, 'invalid_request', 'a: Invalid input: expected string, received number']);
  assert.deepEqual(zod.details, [{ path: 'a', message: 'Invalid input: expected string, received number' }]);
  const parse = toApiError(Object.assign(new Error('Unexpected token'), { type: 'entity.parse.failed', status: 400 }));
  assert.deepEqual([parse.status, parse.wire, parse.message], [400, 'invalid_json', 'request body is not valid JSON']);
  const large = toApiError(Object.assign(new Error('too large'), { type: 'entity.too.large', status: 413 }));
  assert.deepEqual([large.status, large.wire], [413, 'too_large']);
  // The body parser's own 4xx passes through with the generic code.
  const charset = toApiError(Object.assign(new Error('unsupported charset "LATIN1"'), { type: 'charset.unsupported', status: 415 }));
  assert.deepEqual([charset.status, charset.wire, charset.message], [415, 'bad_request', 'unsupported charset "LATIN1"']);
  const internal = toApiError(new Error('secret detail'));
  assert.deepEqual([internal.status, internal.wire, internal.message], [500, 'internal', 'internal error']);
});
