// OAuth 2.0 client credentials for HTTP MCP servers that need them: Airlock authenticates as
// itself, for the server's own audience (RFC 8707 resource indicator). An end user's inbound token is
// never forwarded. Tokens are cached until shortly before they expire; none of them, and not the
// client secret, appear in errors or logs. The token endpoint is fetched through the server's network
// guard (the caller's `fetchImpl`), like its MCP URL: a refused URL never receives the secret.
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CredentialError } from './credentials.js';
import { Redactor } from './redact.js';

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
    private readonly fetchImpl: FetchLike = fetch,
    /** Learns the client secret and every token issued, so that the pool masks them wherever they turn up. */
    private readonly redactor: Redactor = new Redactor(),
  ) {
    redactor.add(opts.clientSecret);
    redactor.add(this.basic());
  }

  private basic(): string {
    return Buffer.from(`${encodeURIComponent(this.opts.clientId)}:${encodeURIComponent(this.opts.clientSecret)}`).toString('base64');
  }

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

  /** The token URL without query or credentials in it (either could carry a secret). */
  private endpoint(): string {
    const u = new URL(this.opts.tokenUrl);
    return `${u.protocol}//${u.host}${u.pathname}`;
  }

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
          authorization: `Basic ${this.basic()}`,
        },
        body: form,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      throw new CredentialError(this.redactor.text(`token endpoint ${this.endpoint()} unreachable: ${(err as Error).message}${code ? ` (${code})` : ''}`));
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (typeof body.access_token === 'string') this.redactor.add(body.access_token, { rotating: true });
    if (!res.ok || typeof body.access_token !== 'string' || body.access_token === '') {
      // The endpoint's own `error` code only if it looks like one (RFC 6749 §5.2); never its free text, which could echo anything.
      const code = typeof body.error === 'string' && /^[\w.-]{1,64}$/.test(body.error) ? ` ${body.error}` : '';
      throw new CredentialError(this.redactor.text(`token endpoint ${this.endpoint()} refused client ${this.opts.clientId}: HTTP ${res.status}${code}`));
    }
    const ttl = typeof body.expires_in === 'number' ? body.expires_in * 1000 : 300_000;
    this.cached = { token: body.access_token, expiresAt: Date.now() + Math.max(ttl - (this.opts.skewMs ?? 30_000), 1_000) };
    return body.access_token;
  }
}
