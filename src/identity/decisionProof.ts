// The API's signing key for people's decisions and answers (src/core/proof.ts says what is signed).
// The API signs with the private key after verifying the person's token; the worker verifies with the
// public key before the workflow records the message. Key: `identity.decisionKey` (an ES256 private JWK
// by reference) or one generated once under the data dir.
import { join } from 'node:path';
import { importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { AirlockConfig } from '../config/load.js';
import { claimsMismatch, PROOF_AUDIENCE, PROOF_TTL_SECONDS, type ProofClaims } from '../core/proof.js';
import { defaultSecretSource } from '../registry/credentials.js';
import { ES256 as ALG, loadOrCreateJwk } from './jwkFile.js';

const ISSUER = 'airlock-api';

export class DecisionKeyError extends Error {
  override readonly name = 'DecisionKeyError';
}

export interface DecisionProofs {
  sign(claims: ProofClaims): Promise<string>;
  /** Null when the proof is valid for exactly these claims; otherwise why not. */
  check(proof: string, want: ProofClaims): Promise<string | null>;
}

async function loadJwk(config: Pick<AirlockConfig, 'dataDir' | 'identity'>): Promise<JWK> {
  const ref = config.identity.decisionKey;
  if (ref) {
    const text = defaultSecretSource(process.env).get(ref);
    try {
      const jwk = JSON.parse(text) as JWK;
      if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) throw new Error('not a P-256 private key');
      return jwk;
    } catch (err) {
      throw new DecisionKeyError(`identity.decisionKey: expected an ES256 (EC P-256) private JWK: ${(err as Error).message}`);
    }
  }
  return loadOrCreateJwk(join(config.dataDir, 'decision-key.jwk.json'));
}

const cache = new Map<string, Promise<DecisionProofs>>();

/** The signer/verifier for a config (one per data dir and key reference, loaded once). */
export function decisionProofs(config: Pick<AirlockConfig, 'dataDir' | 'identity'>): Promise<DecisionProofs> {
  const key = JSON.stringify([config.dataDir, config.identity.decisionKey ?? null]);
  let p = cache.get(key);
  if (!p) {
    p = open(config);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function open(config: Pick<AirlockConfig, 'dataDir' | 'identity'>): Promise<DecisionProofs> {
  const jwk = await loadJwk(config);
  const { d: _d, ...pub } = jwk;
  const privateKey = (await importJWK(jwk, ALG)) as CryptoKey;
  const publicKey = (await importJWK(pub, ALG)) as CryptoKey;
  return {
    sign: (claims) =>
      new SignJWT({ ...claims }).setProtectedHeader({ alg: ALG }).setIssuer(ISSUER).setAudience(PROOF_AUDIENCE).setIssuedAt().setExpirationTime(`${PROOF_TTL_SECONDS}s`).sign(privateKey),
    async check(proof, want) {
      try {
        const { payload } = await jwtVerify(proof, publicKey, { issuer: ISSUER, audience: PROOF_AUDIENCE, algorithms: [ALG] });
        return claimsMismatch(payload as Partial<ProofClaims>, want);
      } catch (err) {
        return `the proof does not verify (${(err as { code?: string }).code ?? 'invalid'})`;
      }
    },
  };
}
