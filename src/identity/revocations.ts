// Token revocation: a deny list by token id (`jti`) and by subject, in the shared database so every API
// replica refuses the same tokens. Revoking a subject refuses its tokens issued at or before the revocation
// (a token without `iat` included); tokens issued afterwards work again.
import { decodeJwt } from 'jose';
import type { AirlockConfig } from '../config/load.js';
import type { Principal } from '../core/types.js';
import { lazySharedDb, openSharedDb } from '../store/sharedDb.js';
import { AuthError, type TokenVerifier } from './devIssuer.js';

const DDL = `
CREATE TABLE IF NOT EXISTS {t}airlock_revocations (
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  reason TEXT NOT NULL,
  revoked_by TEXT NOT NULL,
  revoked_at BIGINT NOT NULL,
  PRIMARY KEY (kind, value)
)`;

export type RevocationKind = 'jti' | 'subject';

export interface Revocation {
  kind: RevocationKind;
  value: string;
  reason: string;
  revokedBy: string;
  /** ISO time. */
  revokedAt: string;
}

type Row = { kind: RevocationKind; value: string; reason: string; revoked_by: string; revoked_at: number | string };

const toRevocation = (r: Row): Revocation => ({ kind: r.kind, value: r.value, reason: r.reason, revokedBy: r.revoked_by, revokedAt: new Date(Number(r.revoked_at)).toISOString() });

export class RevocationStore {
  private readonly db;

  constructor(config: Pick<AirlockConfig, 'audit' | 'dataDir'>) {
    this.db = lazySharedDb(() => openSharedDb(config, DDL));
  }

  /** Records a revocation; revoking the same token or subject again moves its time to now. */
  async revoke(r: { kind: RevocationKind; value: string; reason: string; revokedBy: string }, now = Date.now()): Promise<Revocation> {
    const db = await this.db.get();
    await db.run(
      `INSERT INTO {t}airlock_revocations (kind, value, reason, revoked_by, revoked_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kind, value) DO UPDATE SET reason = excluded.reason, revoked_by = excluded.revoked_by, revoked_at = excluded.revoked_at`,
      [r.kind, r.value, r.reason, r.revokedBy, now],
    );
    return { ...r, revokedAt: new Date(now).toISOString() };
  }

  async list(limit = 1000): Promise<Revocation[]> {
    const db = await this.db.get();
    return (await db.all<Row>('SELECT * FROM {t}airlock_revocations ORDER BY revoked_at DESC, kind, value LIMIT ?', [limit])).map(toRevocation);
  }

  /** Why a token is refused, or undefined when it is not revoked. `issuedAt` is the token's `iat` in seconds. */
  async refusal(t: { jti?: string; subject: string; issuedAt?: number }): Promise<string | undefined> {
    const db = await this.db.get();
    const rows = await db.all<Row>(`SELECT * FROM {t}airlock_revocations WHERE (kind = 'jti' AND value = ?) OR (kind = 'subject' AND value = ?)`, [t.jti ?? '', t.subject]);
    for (const r of rows) {
      if (r.kind === 'jti' && t.jti !== undefined) return `token has been revoked (${r.reason})`;
      if (r.kind === 'subject' && (t.issuedAt === undefined || t.issuedAt * 1000 <= Number(r.revoked_at))) {
        return `tokens of ${t.subject} issued before ${toRevocation(r).revokedAt} have been revoked (${r.reason})`;
      }
    }
    return undefined;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** A verifier that also refuses revoked tokens: checked on every verified request. */
export function withRevocations(inner: TokenVerifier, store: RevocationStore): TokenVerifier {
  return {
    async verify(token: string): Promise<Principal> {
      const principal = await inner.verify(token);
      // The signature is verified: the claims can be read as they are.
      const claims = decodeJwt(token);
      const refused = await store.refusal({
        subject: principal.subject,
        ...(typeof claims.jti === 'string' ? { jti: claims.jti } : {}),
        ...(typeof claims.iat === 'number' ? { issuedAt: claims.iat } : {}),
      });
      if (refused) throw new AuthError(refused);
      return principal;
    },
  };
}
