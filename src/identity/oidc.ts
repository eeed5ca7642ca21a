import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Principal } from '../core/types.js';
import { AuthError, type TokenVerifier } from './devIssuer.js';
import type { Role } from './users.js';

const AIRLOCK_ROLES: readonly Role[] = ['requester', 'approver', 'operator', 'admin'];
const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'];
/** Values of `gty` / `token_use` that mark a token as issued by the client-credentials grant. */
const CLIENT_CREDENTIALS_MARKERS = new Set(['client-credentials', 'client_credentials']);
/** Bearer tokens larger than this are rejected before any parsing or key lookup. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export interface OidcOptions {
  /** Expected `iss`; also used for discovery: `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** Expected `aud` (any one of them must match). */
  audience: string | string[];
  /** Overrides the JWKS location. When given, discovery is skipped (useful for IdPs without discovery). */
  jwksUri?: string;
  /** Accepted JWS algorithms. Default: ['RS256','ES256','PS256','EdDSA']. `none` and HMAC (HS*) are refused. */
  algorithms?: string[];
  /** Allowed clock skew in seconds for exp/nbf/iat. Default 30. */
  clockTolerance?: number;
  /**
   * Where to find things in the token. Dotted paths are allowed (e.g. 'realm_access.roles'); a claim whose
   * name literally contains dots (e.g. Auth0's 'https://example.com/roles') is matched first as-is.
   */
  claims?: {
    /** Default 'sub'. */
    subject?: string;
    /** Default 'groups'. */
    groups?: string;
    /** Default 'roles'. */
    roles?: string;
  };
  /** Map IdP group names to Airlock roles, e.g. { 'airlock-approvers': ['approver'] }. Unioned with the roles claim. */
  roleMappings?: Record<string, string[]>;
  /**
   * Subjects that are service accounts. A token is classified as `kind: 'service'` when ANY of these holds:
   *  1. its subject is listed here (e.g. Keycloak service-account users, whose `sub` is a UUID);
   *  2. it carries a `client_id` claim equal to its subject — RFC 9068 §2.2: for grants without a resource
   *     owner (client_credentials) `sub` identifies the client itself (oidc-provider, Okta, ...);
   *  3. its `gty` or `token_use` claim is 'client-credentials' / 'client_credentials' (Auth0 uses `gty`).
   * Every other token is `kind: 'user'`.
   */
  serviceSubjects?: string[];
  /** Replaces global fetch for discovery and JWKS retrieval (tests, proxies). */
  fetch?: typeof fetch;
  /** Minimum time between JWKS refetches triggered by an unknown `kid` (jose `cooldownDuration`). Default 30000. */
  jwksCooldownMs?: number;
  /** Maximum age of the cached JWKS before it is refetched (jose `cacheMaxAge`). Default 600000. */
  jwksCacheMaxAgeMs?: number;
  /** Timeout for the discovery and JWKS HTTP requests. Default 5000. */
  httpTimeoutMs?: number;
}

interface ResolvedConfig {
  issuer: string;
  audience: string | string[];
  algorithms: string[];
  clockTolerance: number;
  subjectClaim: string;
  groupsClaim: string;
  rolesClaim: string;
  roleMappings: Map<string, Role[]>;
  serviceSubjects: Set<string>;
}

/** Thrown by the key resolver when the JWKS cannot be fetched or parsed (as opposed to "no such key"). */
class KeySourceUnavailable extends Error {}

/**
 * Verifies bearer access tokens (JWTs) issued by an external OpenID Provider and maps their claims to an
 * Airlock {@link Principal}. Signing keys come from the provider's JWKS, are cached, and are refetched when a
 * token names an unknown `kid` (key rotation), at most once per cooldown period.
 */
export class OidcVerifier implements TokenVerifier {
  private constructor(
    private readonly config: ResolvedConfig,
    private readonly keys: JWTVerifyGetKey,
  ) {}

  static async create(opts: OidcOptions): Promise<OidcVerifier> {
    const issuer = opts.issuer;
    if (typeof issuer !== 'string' || !URL.canParse(issuer)) throw new Error(`OIDC issuer must be an absolute URL, got "${issuer}"`);
    const audience = opts.audience;
    if (Array.isArray(audience) ? audience.length === 0 || audience.some((a) => typeof a !== 'string' || !a) : typeof audience !== 'string' || !audience) {
      throw new Error('OIDC audience must be a non-empty string or array of strings');
    }

    const algorithms = opts.algorithms ?? DEFAULT_ALGORITHMS;
    if (algorithms.length === 0) throw new Error('OIDC algorithms must not be empty');
    const refused = algorithms.filter((a) => a === 'none' || /^HS/i.test(a));
    if (refused.length) throw new Error(`OIDC algorithms must be asymmetric; refusing ${refused.join(', ')}`);

    const clockTolerance = opts.clockTolerance ?? 30;
    if (!Number.isFinite(clockTolerance) || clockTolerance < 0) throw new Error('OIDC clockTolerance must be a non-negative number of seconds');

    const roleMappings = new Map<string, Role[]>();
    for (const [group, roles] of Object.entries(opts.roleMappings ?? {})) {
      if (!Array.isArray(roles)) throw new Error(`OIDC roleMappings["${group}"] must be an array of roles`);
      const unknown = roles.filter((r) => !isRole(r));
      if (unknown.length) {
        throw new Error(`OIDC roleMappings["${group}"] has unknown role(s) ${unknown.join(', ')} (known: ${AIRLOCK_ROLES.join(', ')})`);
      }
      roleMappings.set(group, roles as Role[]);
    }

    const fetchImpl = opts.fetch ?? globalThis.fetch;
    const timeoutMs = opts.httpTimeoutMs ?? 5000;
    const jwksUri = opts.jwksUri ?? (await discoverJwksUri(issuer, fetchImpl, timeoutMs));
    if (!URL.canParse(jwksUri)) throw new Error(`OIDC jwks_uri for issuer ${issuer} is not a valid URL`);

    const remote = createRemoteJWKSet(new URL(jwksUri), {
      cooldownDuration: opts.jwksCooldownMs ?? 30_000,
      cacheMaxAge: opts.jwksCacheMaxAgeMs ?? 600_000,
      timeoutDuration: timeoutMs,
      ...(opts.fetch ? { [customFetch]: (url: string, init: RequestInit) => fetchImpl(url, init) } : {}),
    });
    const keys: JWTVerifyGetKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        // "No such key" / "ambiguous key" / "alg unusable with a JWKS" are facts about the token; pass them on.
        if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported) {
          throw err;
        }
        throw new KeySourceUnavailable('JWKS unavailable', { cause: err }); // network error, timeout, non-200, bad JSON
      }
    };

    return new OidcVerifier(
      {
        issuer,
        audience,
        algorithms: [...algorithms],
        clockTolerance,
        subjectClaim: opts.claims?.subject ?? 'sub',
        groupsClaim: opts.claims?.groups ?? 'groups',
        rolesClaim: opts.claims?.roles ?? 'roles',
        roleMappings,
        serviceSubjects: new Set(opts.serviceSubjects ?? []),
      },
      keys,
    );
  }

  async verify(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new AuthError('token is malformed');
    const c = this.config;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: c.issuer,
        audience: c.audience,
        algorithms: c.algorithms,
        clockTolerance: c.clockTolerance,
        requiredClaims: c.subjectClaim.includes('.') ? ['exp'] : ['exp', c.subjectClaim],
      }));
    } catch (err) {
      throw toAuthError(err);
    }

    const subject = claimAt(payload, c.subjectClaim);
    if (typeof subject !== 'string' || subject.length === 0) throw new AuthError('token has no subject');
    const groups = stringList(claimAt(payload, c.groupsClaim), 'groups');
    const claimedRoles = stringList(claimAt(payload, c.rolesClaim), 'roles');

    const roles = new Set<Role>();
    for (const r of claimedRoles) if (isRole(r)) roles.add(r); // unknown IdP roles are dropped
    for (const g of groups) for (const r of c.roleMappings.get(g) ?? []) roles.add(r);

    return {
      subject,
      kind: isService(payload, subject, c.serviceSubjects) ? 'service' : 'user',
      groups,
      roles: AIRLOCK_ROLES.filter((r) => roles.has(r)), // stable order
    };
  }
}

async function discoverJwksUri(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const fail = (why: string, cause?: unknown): Error => new Error(`OIDC discovery failed for issuer ${issuer} (${url}): ${why}`, cause === undefined ? undefined : { cause });
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const reason = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError') ? `timed out after ${timeoutMs} ms` : errorText(err);
    throw fail(reason, err);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    throw fail(`HTTP ${res.status}`);
  }
  let doc: unknown;
  try {
    doc = await res.json();
  } catch (err) {
    throw fail('response is not JSON', err);
  }
  if (!isPlainObject(doc)) throw fail('response is not a JSON object');
  // OpenID Connect Discovery 1.0 §4.3: the returned issuer MUST be identical to the one used for discovery.
  if (doc.issuer !== issuer) throw fail(`document names issuer ${JSON.stringify(doc.issuer)}, expected exactly ${JSON.stringify(issuer)}`);
  if (typeof doc.jwks_uri !== 'string' || !URL.canParse(doc.jwks_uri)) throw fail('document has no valid jwks_uri');
  return doc.jwks_uri;
}

function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof KeySourceUnavailable) return new AuthError('token signing keys are unavailable');
  if (err instanceof errors.JWTExpired) return new AuthError('token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new AuthError('token is missing required claims');
    switch (err.claim) {
      case 'iss':
        return new AuthError('token issuer mismatch');
      case 'aud':
        return new AuthError('token audience mismatch');
      case 'nbf':
        return new AuthError('token is not yet valid');
      default:
        return new AuthError('token claims are invalid');
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError('token signature is invalid');
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthError('token signing key is unknown');
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new AuthError('token signing key is ambiguous');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new AuthError('token algorithm is not allowed');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new AuthError('token is malformed');
  return new AuthError('token is invalid');
}

function isService(payload: JWTPayload, subject: string, serviceSubjects: Set<string>): boolean {
  if (serviceSubjects.has(subject)) return true;
  if (typeof payload.client_id === 'string' && payload.client_id === subject) return true;
  return [payload.gty, payload.token_use].some((v) => typeof v === 'string' && CLIENT_CREDENTIALS_MARKERS.has(v));
}

/** Looks up a claim by exact name first, then by dotted path through nested objects (own properties only). */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Absent → [], a string → [string], an array of strings → itself; anything else is an AuthError. */
function stringList(value: unknown, what: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...new Set(value as string[])];
  throw new AuthError(`token ${what} claim is malformed`);
}

function isRole(r: unknown): r is Role {
  return typeof r === 'string' && (AIRLOCK_ROLES as readonly string[]).includes(r);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
