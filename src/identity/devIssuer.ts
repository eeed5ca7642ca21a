import { importJWK, jwtVerify, SignJWT, errors, type CryptoKey } from 'jose';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import type { Principal } from '../core/types.js';
import { loadOrCreateJwk } from './jwkFile.js';
import { DEMO_USERS } from './users.js';

export const DEV_ISSUER = 'airlock-dev';
export const AUDIENCE = 'airlock-api';
const ALG = 'ES256';

export class AuthError extends Error {
  override readonly name = 'AuthError';
}

/** Verifies a bearer token and returns the principal it proves. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

const ClaimsSchema = z.object({
  sub: z.string().min(1),
  groups: z.array(z.string()).default([]),
  roles: z.array(z.enum(['requester', 'approver', 'operator', 'admin'])).default([]),
  kind: z.enum(['user', 'service']).default('user'),
});

/**
 * The embedded development issuer: an ES256 key pair kept in the data directory (mode 0600).
 * Tokens it mints verify like any other JWT (issuer, audience, expiry, signature).
 */
export class DevIssuer implements TokenVerifier {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly ttlMs: number,
  ) {}

  static async open(dataDir: string, ttlMs: number): Promise<DevIssuer> {
    const jwk = await loadOrCreateJwk(join(dataDir, 'dev-issuer.jwk.json'));
    const { d: _d, ...pub } = jwk;
    return new DevIssuer((await importJWK(jwk, ALG)) as CryptoKey, (await importJWK(pub, ALG)) as CryptoKey, ttlMs);
  }

  async mint(user: string, overrides: Partial<Omit<Principal, 'subject'>> = {}, ttlMs = this.ttlMs): Promise<string> {
    const base = DEMO_USERS[user];
    if (!base && !overrides.roles) throw new AuthError(`unknown demo user "${user}" (known: ${Object.keys(DEMO_USERS).join(', ')})`);
    const claims = { ...base, ...overrides };
    return (
      new SignJWT({ groups: claims.groups ?? [], roles: claims.roles ?? [], kind: claims.kind ?? 'user' })
        .setProtectedHeader({ alg: ALG })
        .setSubject(user)
        // A token id, so one token can be revoked (src/identity/revocations.ts).
        .setJti(randomUUID())
        .setIssuer(DEV_ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000))
        .sign(this.privateKey)
    );
  }

  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, { issuer: DEV_ISSUER, audience: AUDIENCE, algorithms: [ALG] });
      const c = ClaimsSchema.parse(payload);
      return { subject: c.sub, kind: c.kind, groups: c.groups, roles: c.roles };
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AuthError('token expired');
      if (err instanceof z.ZodError) throw new AuthError('token claims are malformed');
      throw new AuthError('token is invalid');
    }
  }
}
