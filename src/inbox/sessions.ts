// Inbox sessions: the browser holds an opaque, random session id in an HttpOnly, SameSite=Strict cookie; the
// shared database (src/store/sharedDb.ts, like revocations) holds the session, so every API replica knows it.
// The row keeps the verified bearer token the person signed in with, encrypted with a key derived from the session
// id (which the database never stores, only its hash): neither the database nor the cookie alone yields a token.
// Every request re-verifies that token (signature, expiry, revocation), so a revoked token ends the session too.
// Pending OIDC sign-ins (state, PKCE verifier, nonce) live in a second table, so the callback may reach any replica.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { AirlockConfig } from '../config/load.js';
import { lazySharedDb, openSharedDb } from '../store/sharedDb.js';

const DDL = `
CREATE TABLE IF NOT EXISTS {t}airlock_inbox_sessions (
  id_hash TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  token_enc TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS {t}airlock_inbox_logins (
  state_hash TEXT PRIMARY KEY,
  secret_enc TEXT NOT NULL,
  expires_at BIGINT NOT NULL
)`;

export const SESSION_COOKIE = 'airlock_inbox';
export const LOGIN_COOKIE = 'airlock_inbox_login';
/** How long a started OIDC sign-in may take. */
const LOGIN_TTL_MS = 10 * 60_000;

export interface Session {
  subject: string;
  token: string;
  csrf: string;
  expiresAt: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const keyOf = (secret: string, purpose: string) => createHash('sha256').update(`airlock-inbox:${purpose}:${secret}`).digest();

function seal(secret: string, purpose: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', keyOf(secret, purpose), iv);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}

function open(secret: string, purpose: string, sealed: string): string | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64');
    const d = createDecipheriv('aes-256-gcm', keyOf(secret, purpose), raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

type Row = { subject: string; token_enc: string; csrf: string; expires_at: number | string };

export class SessionStore {
  private readonly db;

  constructor(config: Pick<AirlockConfig, 'audit' | 'dataDir'>) {
    this.db = lazySharedDb(() => openSharedDb(config, DDL));
  }

  /** A new session for a verified token; returns the cookie value (the session id) and the session. */
  async create(subject: string, token: string, ttlMs: number, now = Date.now()): Promise<{ id: string; session: Session }> {
    const db = await this.db.get();
    await db.run('DELETE FROM {t}airlock_inbox_sessions WHERE expires_at < ?', [now]);
    const id = randomBytes(32).toString('base64url');
    const session: Session = { subject, token, csrf: randomBytes(24).toString('base64url'), expiresAt: now + ttlMs };
    await db.run('INSERT INTO {t}airlock_inbox_sessions (id_hash, subject, token_enc, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [
      sha256(id),
      subject,
      seal(id, 'session', token),
      session.csrf,
      now,
      session.expiresAt,
    ]);
    return { id, session };
  }

  /** The live session of a cookie value, or undefined (unknown, signed out or expired). */
  async get(id: string, now = Date.now()): Promise<Session | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const db = await this.db.get();
    const [row] = await db.all<Row>('SELECT subject, token_enc, csrf, expires_at FROM {t}airlock_inbox_sessions WHERE id_hash = ?', [sha256(id)]);
    if (!row || Number(row.expires_at) <= now) return undefined;
    const token = open(id, 'session', row.token_enc);
    return token === undefined ? undefined : { subject: row.subject, token, csrf: row.csrf, expiresAt: Number(row.expires_at) };
  }

  async delete(id: string): Promise<void> {
    const db = await this.db.get();
    await db.run('DELETE FROM {t}airlock_inbox_sessions WHERE id_hash = ?', [sha256(id)]);
  }

  /** Remembers a started OIDC sign-in under its `state` (the secret is sealed with it); returns nothing to keep but the state. */
  async startLogin(state: string, secret: Record<string, string>, now = Date.now()): Promise<void> {
    const db = await this.db.get();
    await db.run('DELETE FROM {t}airlock_inbox_logins WHERE expires_at < ?', [now]);
    await db.run('INSERT INTO {t}airlock_inbox_logins (state_hash, secret_enc, expires_at) VALUES (?, ?, ?)', [sha256(state), seal(state, 'login', JSON.stringify(secret)), now + LOGIN_TTL_MS]);
  }

  /** The sign-in started under `state`, once: it is deleted as it is read. */
  async finishLogin(state: string, now = Date.now()): Promise<Record<string, string> | undefined> {
    const db = await this.db.get();
    const [row] = await db.all<{ secret_enc: string; expires_at: number | string }>('SELECT secret_enc, expires_at FROM {t}airlock_inbox_logins WHERE state_hash = ?', [sha256(state)]);
    if (!row) return undefined;
    const removed = await db.run('DELETE FROM {t}airlock_inbox_logins WHERE state_hash = ?', [sha256(state)]);
    if (removed === 0 || Number(row.expires_at) <= now) return undefined;
    const plain = open(state, 'login', row.secret_enc);
    return plain === undefined ? undefined : (JSON.parse(plain) as Record<string, string>);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A `Set-Cookie` value: HttpOnly always, Secure behind HTTPS; `maxAgeMs` 0 clears it. */
export function cookie(name: string, value: string, o: { maxAgeMs: number; secure: boolean; sameSite: 'Strict' | 'Lax'; path?: string }): string {
  return [`${name}=${value}`, `Path=${o.path ?? '/'}`, `Max-Age=${Math.max(0, Math.floor(o.maxAgeMs / 1000))}`, 'HttpOnly', `SameSite=${o.sameSite}`, ...(o.secure ? ['Secure'] : [])].join('; ');
}
