// OidcVerifier against a real OpenID Provider (oidc-provider) running in-process on 127.0.0.1.
// Every token on a "valid" path is minted by the provider over HTTP; only forged negatives are hand-made.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { AuthError } from '../../src/identity/devIssuer.js';
import { OidcVerifier, type OidcOptions } from '../../src/identity/oidc.js';
import { OTHER_RESOURCE, SECRET, serviceToken, signingKey, startProvider, userToken, type RunningProvider } from '../helpers/oidcProvider.js';
/** Asserts an AuthError with exactly `reason`, which must not echo (any part of) the token. */
async function rejectsAuth(p: Promise<unknown>, reason: string, token?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
    assert.equal(err.message, reason);
    if (token) for (const part of token.split('.')) if (part.length > 8) assert.ok(!err.message.includes(part), 'reason echoes the token');
    return true;
  });
}

async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

describe('OidcVerifier against a real OpenID Provider', () => {
  let op: RunningProvider;
  let key1: { jwk: JWK; privateKey: CryptoKey };
  let verifier: OidcVerifier;
  const base = (): OidcOptions => ({ issuer: op.issuer, audience: 'airlock-api', roleMappings: { 'airlock-approvers': ['approver'] } });

  before(async () => {
    key1 = await signingKey('k1');
    op = await startProvider(key1.jwk);
    verifier = await OidcVerifier.create(base());
  });
  after(async () => {
    await op?.close();
  });

  test('the provider really issues RS256 JWT access tokens for the airlock-api audience', async () => {
    const token = await serviceToken(op, 'svc-reporter');
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'RS256', typ: 'at+jwt', kid: 'k1' });
    const claims = decodeJwt(token);
    assert.equal(claims.iss, op.issuer);
    assert.equal(claims.aud, 'airlock-api');
    assert.equal(claims.sub, 'svc-reporter');
    assert.equal(claims.client_id, 'svc-reporter');
  });

  test('a client_credentials token verifies: subject, groups, roles claim ∪ roleMappings, unknown roles dropped, kind service', async () => {
    const p = await verifier.verify(await serviceToken(op, 'svc-reporter'));
    assert.deepEqual(p, {
      subject: 'svc-reporter',
      kind: 'service', // client_id === sub (RFC 9068 §2.2)
      groups: ['airlock-approvers', 'finance'],
      roles: ['requester', 'approver'], // 'superuser' dropped; 'approver' from the group mapping
    });
  });

  test('dotted claim paths (Keycloak-style realm_access.roles) and an audience list', async () => {
    const v = await OidcVerifier.create({ ...base(), audience: ['something-else', 'airlock-api'], claims: { roles: 'realm_access.roles' } });
    const p = await v.verify(await serviceToken(op, 'svc-reporter'));
    assert.deepEqual(p.roles, ['approver', 'operator']); // 'uma_authorization' dropped
    const nothing = await OidcVerifier.create({ ...base(), claims: { groups: 'no.such.path', roles: 'realm_access.nope' } });
    const q = await nothing.verify(await serviceToken(op, 'svc-reporter'));
    assert.deepEqual([q.groups, q.roles], [[], []]);
  });

  test('a single-string groups claim becomes a one-element array; a non-string groups claim is refused', async () => {
    const p = await verifier.verify(await serviceToken(op, 'svc-single-group'));
    assert.deepEqual(p.groups, ['airlock-approvers']);
    assert.deepEqual(p.roles, ['approver']);
    const bad = await serviceToken(op, 'svc-bad-groups');
    await rejectsAuth(verifier.verify(bad), 'token groups claim is malformed', bad);
  });

  test('an end-user token (CIBA grant) verifies as kind user; serviceSubjects can override', async () => {
    const token = await userToken(op, 'alice');
    assert.equal(decodeJwt(token).client_id, 'cli-app');
    assert.deepEqual(await verifier.verify(token), { subject: 'alice', kind: 'user', groups: ['support'], roles: ['requester'] });
    const v = await OidcVerifier.create({ ...base(), serviceSubjects: ['alice'] });
    assert.equal((await v.verify(token)).kind, 'service');
  });

  test('wrong audience is refused', async () => {
    const other = await serviceToken(op, 'svc-reporter', OTHER_RESOURCE);
    assert.equal(decodeJwt(other).aud, 'other-api');
    await rejectsAuth(verifier.verify(other), 'token audience mismatch', other);
  });

  test('a verifier expecting a different issuer refuses the token', async () => {
    const v = await OidcVerifier.create({ issuer: 'https://idp.example.com', audience: 'airlock-api', jwksUri: `${op.issuer}/jwks` });
    const token = await serviceToken(op, 'svc-reporter');
    await rejectsAuth(v.verify(token), 'token issuer mismatch', token);
  });

  test('an expired token is refused (clockTolerance 0) but accepted within the tolerance window', async () => {
    const strict = await OidcVerifier.create({ ...base(), clockTolerance: 0 });
    // Lifetimes are whole seconds: mint until the token has most of its one second left, so a busy
    // machine does not cross the expiry before the first check.
    let token: string;
    let claims: ReturnType<typeof decodeJwt>;
    do {
      token = await serviceToken(op, 'svc-short');
      claims = decodeJwt(token);
    } while (claims.exp! * 1000 - Date.now() < 700);
    const { exp, iat } = claims;
    assert.equal(exp! - iat!, 1);
    assert.equal((await strict.verify(token)).subject, 'svc-short'); // still valid right now (exp is 1 s ahead)
    await sleep(exp! * 1000 - Date.now() + 50);
    await rejectsAuth(strict.verify(token), 'token expired', token);
    assert.equal((await verifier.verify(token)).subject, 'svc-short'); // default 30 s tolerance
  });

  test('tampered tokens are refused: changed payload, changed signature', async () => {
    const token = await serviceToken(op, 'svc-reporter');
    const [h, p, s] = token.split('.') as [string, string, string];
    const escalated = { ...decodeJwt(token), roles: ['admin'] };
    const t1 = `${h}.${b64url(JSON.stringify(escalated))}.${s}`;
    await rejectsAuth(verifier.verify(t1), 'token signature is invalid', t1);
    const mid = Math.floor(s.length / 2);
    const t2 = `${h}.${p}.${s.slice(0, mid)}${s[mid] === 'A' ? 'B' : 'A'}${s.slice(mid + 1)}`;
    await rejectsAuth(verifier.verify(t2), 'token signature is invalid', t2);
  });

  test("a token signed by a different key under the provider's kid is refused", async () => {
    const claims = decodeJwt(await serviceToken(op, 'svc-reporter'));
    const mallory = await signingKey('k1');
    const forged = await new SignJWT({ ...claims, roles: ['admin'] }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' }).sign(mallory.privateKey);
    await rejectsAuth(verifier.verify(forged), 'token signature is invalid', forged);
  });

  test('malformed tokens, disallowed algorithms and unknown kids are refused', async () => {
    await rejectsAuth(verifier.verify(''), 'token is malformed');
    await rejectsAuth(verifier.verify('not-a-jwt'), 'token is malformed');
    await rejectsAuth(verifier.verify('a.b.c'), 'token is malformed');
    const claims = decodeJwt(await serviceToken(op, 'svc-reporter'));
    const unsecured = `${b64url(JSON.stringify({ alg: 'none' }))}.${b64url(JSON.stringify(claims))}.`;
    await rejectsAuth(verifier.verify(unsecured), 'token algorithm is not allowed', unsecured);
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(SECRET));
    await rejectsAuth(verifier.verify(hs), 'token algorithm is not allowed', hs);
    const stranger = await signingKey('who-knows');
    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'who-knows' }).sign(stranger.privateKey);
    await rejectsAuth(verifier.verify(unknownKid), 'token signing key is unknown', unknownKid);
  });

  test('an unreachable JWKS is an AuthError, not a crash', async () => {
    const v = await OidcVerifier.create({ ...base(), jwksUri: `http://127.0.0.1:${await deadPort()}/jwks`, httpTimeoutMs: 1000 });
    const token = await serviceToken(op, 'svc-reporter');
    await rejectsAuth(v.verify(token), 'token signing keys are unavailable', token);
  });

  test('discovery failures name the issuer', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    await assert.rejects(OidcVerifier.create({ issuer: dead, audience: 'airlock-api' }), (err: Error) => {
      assert.ok(!(err instanceof AuthError));
      assert.match(err.message, new RegExp(`^OIDC discovery failed for issuer ${dead} `));
      return true;
    });
    await assert.rejects(OidcVerifier.create({ issuer: `${op.issuer}/tenant-x`, audience: 'airlock-api' }), {
      message: `OIDC discovery failed for issuer ${op.issuer}/tenant-x (${op.issuer}/tenant-x/.well-known/openid-configuration): HTTP 404`,
    });
    // Discovery 1.0 §4.3: the document's issuer must equal the configured one exactly (here: trailing slash).
    await assert.rejects(OidcVerifier.create({ issuer: `${op.issuer}/`, audience: 'airlock-api' }), (err: Error) => {
      assert.match(err.message, /^OIDC discovery failed for issuer http:\/\/127\.0\.0\.1:\d+\/ .*document names issuer "http:\/\/127\.0\.0\.1:\d+", expected exactly/);
      return true;
    });
  });

  test('misconfiguration is rejected up front', async () => {
    await assert.rejects(OidcVerifier.create({ ...base(), roleMappings: { admins: ['superuser'] } }), /roleMappings\["admins"\] has unknown role\(s\) superuser/);
    await assert.rejects(OidcVerifier.create({ ...base(), algorithms: ['RS256', 'HS256'] }), /refusing HS256/);
    await assert.rejects(OidcVerifier.create({ ...base(), audience: [] }), /audience/);
  });
});

describe('OidcVerifier and signing-key rotation', () => {
  let op: RunningProvider | undefined;
  after(async () => {
    await op?.close();
  });

  test('the same verifier accepts tokens signed with a rotated key (new kid) after refetching the JWKS', async () => {
    const cooldownMs = 1000;
    // Keys are generated up front so that RSA key generation time cannot eat into the cooldown window.
    const [k1, k2, junk] = await Promise.all([signingKey('k1'), signingKey('k2'), signingKey('junk')]);
    op = await startProvider(k1.jwk);
    const { issuer, port } = op;
    let jwksFetches = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input) === `${issuer}/jwks`) jwksFetches++;
      return fetch(input, init);
    };
    const verifier = await OidcVerifier.create({ issuer, audience: 'airlock-api', fetch: countingFetch, jwksCooldownMs: cooldownMs });

    const before = await serviceToken(op, 'svc-reporter');
    assert.equal(decodeProtectedHeader(before).kid, 'k1');
    assert.equal((await verifier.verify(before)).subject, 'svc-reporter');
    assert.equal(jwksFetches, 1);

    // Unknown kids within the cooldown do not trigger refetches (no JWKS request storm from junk tokens).
    for (let i = 0; i < 5; i++) {
      const t = await new SignJWT(decodeJwt(before)).setProtectedHeader({ alg: 'RS256', kid: `junk-${i}` }).sign(junk.privateKey);
      await rejectsAuth(verifier.verify(t), 'token signing key is unknown', t);
    }
    assert.equal(jwksFetches, 1);

    // Rotate: same issuer and port, new key with a new kid; the old key is no longer published.
    await op.close();
    op = await startProvider(k2.jwk, port);
    assert.equal(op.issuer, issuer);
    const rotated = await serviceToken(op, 'svc-reporter');
    assert.equal(decodeProtectedHeader(rotated).kid, 'k2');

    await sleep(cooldownMs + 50);
    assert.deepEqual(await verifier.verify(rotated), {
      subject: 'svc-reporter',
      kind: 'service',
      groups: ['airlock-approvers', 'finance'],
      roles: ['requester'],
    });
    assert.equal(jwksFetches, 2);
    assert.equal((await verifier.verify(rotated)).subject, 'svc-reporter'); // served from the cache
    assert.equal(jwksFetches, 2);

    // The retired key's tokens are now refused (within the cooldown, without another fetch).
    await rejectsAuth(verifier.verify(before), 'token signing key is unknown', before);
    assert.equal(jwksFetches, 2);
  });
});
