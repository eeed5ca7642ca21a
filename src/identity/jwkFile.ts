// An ES256 private key kept as a JWK file under the data dir: read it, or generate it once (mode 0600).
// Shared by the dev issuer's token key and the API's decision key.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const ES256 = 'ES256';

export async function loadOrCreateJwk(file: string): Promise<JWK> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch {
    const { privateKey } = await generateKeyPair(ES256, { extractable: true });
    const jwk = await exportJWK(privateKey);
    mkdirSync(dirname(file), { recursive: true });
    try {
      // `wx`: when two processes start at once on one data dir, the first one's key wins.
      writeFileSync(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
      return jwk;
    } catch {
      return JSON.parse(readFileSync(file, 'utf8')) as JWK;
    }
  }
}
