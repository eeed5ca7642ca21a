// Unauthorized decisions are refused and change nothing; identity comes only from the token.
import assert from 'node:assert/strict';
import { SignJWT, generateKeyPair } from 'jose';
import { after, before, describe, test } from 'node:test';
import { AUDIENCE, DEV_ISSUER } from '../../src/identity/devIssuer.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

describe('authorization at the edge and in the workflow', () => {
  let s: TestStack;
  let runId: string;
  let approvalId: string;
  before(async () => {
    s = await startTestStack();
    runId = await s.startRun();
    approvalId = (await s.waitForRun(runId, (v) => v.status === 'awaiting_approval')).pendingApprovals[0]!.approvalId;
  });
  after(async () => {
    await s?.cleanup();
  });

  const decide = (token: string | undefined, body: unknown = { decision: 'approve' }) => s.call('POST', `/v1/approvals/${approvalId}/decision`, { token, body });
  /** Each test checks that its own refused attempts changed nothing: the run waits, its one approval is pending, no refund. */
  const unchanged = async () => {
    const v = await s.waitForRun(runId, () => true);
    assert.equal(v.status, 'awaiting_approval');
    assert.equal(v.pendingApprovals[0]!.status, 'pending');
    assert.deepEqual(v.pendingApprovals[0]!.votes, []);
    assert.equal(v.approvals.length, 1);
    assert.deepEqual(s.refunds(runId), []);
  };

  test('no token, a malformed token, a foreign-key token and an expired token get 401', async () => {
    assert.equal((await decide(undefined)).status, 401);
    assert.equal((await decide('not-a-jwt')).status, 401);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ groups: ['finance'], roles: ['approver'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('mallory')
      .setIssuer(DEV_ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(privateKey);
    const res = await decide(forged);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'unauthorized');
    const expired = await s.issuer.mint('bob', {}, -60_000);
    assert.match((await decide(expired)).body.error.message, /expired/);
    await unchanged();
  });

  test('the requester cannot approve their own run, even as a finance approver', async () => {
    const frankClaims = { groups: ['finance', 'support'], roles: ['requester', 'approver'] as Array<'requester' | 'approver'> };
    const frank = await s.issuer.mint('frank', frankClaims);
    const res = await s.call('POST', '/v1/runs', { token: frank, body: { agent: 'refund-assistant', input: { customerId: 'C-1001', invoiceId: 'INV-2001', message: 'self' } } });
    assert.equal(res.status, 202);
    const own = await s.waitForRun(res.body.runId, (v) => v.status === 'awaiting_approval');
    const self = await s.call('POST', `/v1/approvals/${own.pendingApprovals[0]!.approvalId}/decision`, { token: frank, body: { decision: 'approve' } });
    assert.equal(self.status, 403);
    assert.match(self.body.error.message, /requester/);
    assert.equal((await s.waitForRun(res.body.runId, () => true)).status, 'awaiting_approval');
  });

  test('users outside the group, or without the approver role, get 403', async () => {
    const dave = await decide(await s.token('dave')); // approver, but in support-leads
    assert.equal(dave.status, 403);
    assert.match(dave.body.error.message, /finance/);
    assert.equal((await decide(await s.token('alice'))).status, 403);
    assert.equal((await decide(await s.token('olivia'))).status, 403);
    await unchanged();
  });

  test('identity fields in the body are refused, not trusted', async () => {
    const res = await decide(await s.token('dave'), { decision: 'approve', approver: 'bob' });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /approver/);
    await unchanged();
  });

  test('a decision for an approval id of an unknown run is 404', async () => {
    assert.equal((await s.call('POST', '/v1/approvals/run-ffffffffffffffffffff.a3/decision', { token: await s.token('bob'), body: { decision: 'approve' } })).status, 404);
    assert.equal((await s.call('POST', `/v1/approvals/${runId}.a9/decision`, { token: await s.token('bob'), body: { decision: 'approve' } })).status, 404);
    await unchanged();
  });

  test('approvers outside the group do not even see the approval', async () => {
    const listed = await s.call('GET', '/v1/approvals', { token: await s.token('dave') });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.approvals.filter((a: { runId: string }) => a.runId === runId).length, 0);
  });
});
