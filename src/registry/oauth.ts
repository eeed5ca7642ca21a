// OAuth 2.0 client credentials for HTTP MCP servers that need them: Airlock authenticates as
// itself, for the server's own audience (RFC 8707 resource indicator). An end user's inbound token is
// never forwarded. Tokens are cached until shortly before they expire; none of them, and not the
// client secret, appear in errors or logs.
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CredentialError } from './credentials.js';

export interface ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  resource?: string;
  scope?: string;
  /** Refresh this long before expiry (ms). */
  skewMs?: number;
}

export class ClientCredentials {
  private cached?: { token: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly opts: ClientCredentialsOptions,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async token(): Promise<string> {
    if (this.cached && Date.now() < this.cached.expiresAt) return this.cached.token;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** A fetch for the MCP transport that sends a current bearer token on every request. */
  readonly fetch: FetchLike = async (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${await this.token()}`);
    return this.fetchImpl(url, { ...init, headers });
  };

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.opts.resource) form.set('resource', this.opts.resource);
    if (this.opts.scope) form.set('scope', this.opts.scope);
    let res: Response;
    try {
      res = await this.fetchImpl(this.opts.tokenUrl, {
        method: 'POST',
        redirect: 'error',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.opts.clientId)}:${encodeURIComponent(this.opts.clientSecret)}`).toString('base64')}`,
        },
        body: form,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new CredentialError(`token endpoint ${this.opts.tokenUrl} unreachable: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (!res.ok || typeof body.access_token !== 'string')
      throw new CredentialError(`token endpoint ${this.opts.tokenUrl} refused client ${this.opts.clientId}: HTTP ${res.status}${typeof body.error === 'string' ? ` ${body.error}` : ''}`);
    const ttl = typeof body.expires_in === 'number' ? body.expires_in * 1000 : 300_000;
    this.cached = { token: body.access_token, expiresAt: Date.now() + Math.max(ttl - (this.opts.skewMs ?? 30_000), 1_000) };
    return body.access_token;
  }
}
