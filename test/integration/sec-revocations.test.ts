// Token revocation through the API and the CLI: a revoked token gets 401 with the reason on every request.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { after, before, describe, test } from 'node:test';
import { spawnNode } from '../helpers/process.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

describe('token revocation', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack({ parts: { worker: false } });
  });
  after(async () => {
    await s?.cleanup();
  });

  /** A token of a subject only this test uses (so revoking it touches no other test). */
  const tokenOf = (subject: string) => s.issuer.mint(subject, { kind: 'user', groups: [], roles: ['requester'] });
  const fresh = () => `sec-user-${randomBytes(6).toString('hex')}`;
  /** 404 for an unknown run when the token is accepted, 401 when it is refused. */
  const probe = (token: string) => s.call('GET', '/v1/runs/run-does-not-exist', { token });
  const revoke = async (body: unknown, user = 'adam') => s.call('POST', '/v1/revocations', { token: await s.token(user), body });

  test('dev tokens carry a jti; revoking it refuses that token only', async () => {
    const subject = fresh();
    const [t1, t2] = [await tokenOf(subject), await tokenOf(subject)];
    const jti = decodeJwt(t1).jti;
    assert.equal(typeof jti, 'string');
    assert.notEqual(jti, decodeJwt(t2).jti);
    assert.equal((await probe(t1)).status, 404);
    const res = await revoke({ jti, reason: 'laptop stolen' });
    assert.equal(res.status, 201);
    assert.equal(res.body.revocation.revokedBy, 'adam');
    const refused = await probe(t1);
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /revoked \(laptop stolen\)/);
    assert.equal((await probe(t2)).status, 404);
    const list = await s.call('GET', '/v1/revocations', { token: await s.token('adam') });
    assert.ok(list.body.revocations.some((r: { kind: string; value: string }) => r.kind === 'jti' && r.value === jti));
    // On the audit trail: who revoked which token, and why.
    const audit = await s.call('GET', '/v1/audit?type=identity.revoked&principal=adam', { token: await s.token('olivia') });
    assert.ok(
      audit.body.records.some((r: { data: { kind: string; value: string; reason: string } }) => r.data.kind === 'jti' && r.data.value === jti && r.data.reason === 'laptop stolen'),
      JSON.stringify(audit.body),
    );
  });

  test('revoking a subject refuses its tokens issued until then; later tokens work', async () => {
    const subject = fresh();
    const before = await tokenOf(subject);
    assert.equal((await revoke({ subject, reason: 'left the company' })).status, 201);
    const refused = await probe(before);
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /left the company/);
    // `iat` has a one-second resolution: a token of the next second is issued after the revocation.
    await sleep(1_100);
    assert.equal((await probe(await tokenOf(subject))).status, 404);
  });

  test('only admins revoke or list; the body names exactly one of jti and subject', async () => {
    assert.equal((await revoke({ subject: fresh(), reason: 'x' }, 'olivia')).status, 403);
    assert.equal((await s.call('GET', '/v1/revocations', { token: await s.token('alice') })).status, 403);
    const both = await revoke({ subject: fresh(), jti: 'x', reason: 'x' });
    assert.equal(both.status, 400);
    assert.match(both.body.error.message, /exactly one of jti and subject/);
    assert.equal((await revoke({ jti: 'x' })).status, 400);
  });

  test('`airlock token revoke --jti` from another process is honoured by the running API', async () => {
    const token = await tokenOf(fresh());
    assert.equal((await probe(token)).status, 404);
    const cli = spawnNode(['--import', 'tsx', 'src/cli/main.ts', 'token', 'revoke', '--jti', String(decodeJwt(token).jti), '--reason', 'cli test'], s.env);
    const [code] = (await once(cli.child, 'exit')) as [number];
    assert.equal(code, 0, cli.output());
    const refused = await probe(token);
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /cli test/);
  });
});
