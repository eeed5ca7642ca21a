// A real OpenID Provider (oidc-provider) in-process on 127.0.0.1, issuing JWT access tokens over HTTP:
// client_credentials for service accounts, CIBA (poll mode) for end users without a browser.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors as oidcErrors } from 'oidc-provider';

export const AIRLOCK_RESOURCE = 'urn:airlock:api';
export const OTHER_RESOURCE = 'urn:other:api';
const AUDIENCES: Record<string, string> = { [AIRLOCK_RESOURCE]: 'airlock-api', [OTHER_RESOURCE]: 'other-api' };
export const SECRET = 'test-secret-of-sufficient-length-0123456789';

/** Extra claims the provider puts into access tokens, keyed by account (user tokens) or client (service tokens). */
export const EXTRA_CLAIMS: Record<string, Record<string, unknown>> = {
  'svc-reporter': {
    groups: ['airlock-approvers', 'finance'],
    roles: ['requester', 'superuser'],
    realm_access: { roles: ['operator', 'uma_authorization'] },
  },
  'svc-single-group': { groups: 'airlock-approvers' },
  'svc-bad-groups': { groups: 42 },
  'svc-short': { groups: ['ops'], roles: ['operator'] },
  alice: { groups: ['support'], roles: ['requester', 'offline_access'] },
};

const serviceClient = (client_id: string) => ({
  client_id,
  client_secret: SECRET,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
});

export async function signingKey(kid: string): Promise<{ jwk: JWK; privateKey: CryptoKey }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}

export interface RunningProvider {
  issuer: string;
  port: number;
  close(): Promise<void>;
}

/** Starts oidc-provider on 127.0.0.1 (a free port unless `port` is given) signing with `jwk`. */
export async function startProvider(jwk: JWK, port = 0, claims: Record<string, Record<string, unknown>> = EXTRA_CLAIMS): Promise<RunningProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${actualPort}`;
  const config = {
    jwks: { keys: [jwk] },
    cookies: { keys: ['cookie-signing-key-for-tests-only'] },
    clients: [
      serviceClient('svc-reporter'),
      serviceClient('svc-single-group'),
      serviceClient('svc-bad-groups'),
      serviceClient('svc-short'),
      {
        client_id: 'cli-app',
        client_secret: SECRET,
        grant_types: ['urn:openid:params:grant-type:ciba'],
        backchannel_token_delivery_mode: 'poll',
        response_types: [],
        redirect_uris: [],
      },
    ],
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: async (_ctx: unknown, resource: string, client: { clientId: string }) => {
          const audience = AUDIENCES[resource];
          if (!audience) throw new oidcErrors.InvalidTarget();
          return {
            scope: 'api',
            audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: client.clientId === 'svc-short' ? 1 : 300,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
      // CIBA lets the test obtain a genuine *user* access token without a browser: the "authentication
      // device" approves immediately and the client polls the token endpoint.
      ciba: {
        enabled: true,
        deliveryModes: ['poll'],
        processLoginHint: async (_ctx: unknown, loginHint: string) => loginHint,
        validateRequestContext: async () => {},
        validateBindingMessage: async () => {},
        verifyUserCode: async () => {},
        triggerAuthenticationDevice: async (_ctx: unknown, request: { accountId: string; clientId: string }) => {
          const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
          grant.addOIDCScope('openid');
          grant.addResourceScope(AIRLOCK_RESOURCE, 'api');
          await grant.save();
          await provider.backchannelResult(request, grant);
        },
      },
    },
    ttl: {
      ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? 300,
      AccessToken: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? 300,
      BackchannelAuthenticationRequest: 60,
      IdToken: 300,
      Grant: 600,
    },
    extraTokenClaims: async (_ctx: unknown, token: { accountId?: string; clientId: string }) => claims[token.accountId ?? token.clientId],
  };
  const provider = new Provider(issuer, config);
  provider.on('server_error', (_ctx: unknown, err: unknown) => console.error('oidc-provider server_error', err));
  const handle = provider.callback();
  // No keep-alive: a pooled client connection to a provider that was just restarted on the same port would
  // otherwise race with the server-side close and fail the next request ("fetch failed").
  server.on('request', (req, res) => {
    res.shouldKeepAlive = false;
    handle(req, res);
  });
  return {
    issuer,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function postForm(url: string, form: Record<string, string>, clientId: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, `${url} -> ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** A real client_credentials access token (JWT) from the provider's token endpoint. */
export async function serviceToken(op: RunningProvider, clientId: string, resource = AIRLOCK_RESOURCE): Promise<string> {
  const body = await postForm(`${op.issuer}/token`, { grant_type: 'client_credentials', resource, scope: 'api' }, clientId);
  assert.equal(typeof body.access_token, 'string');
  return body.access_token as string;
}

/** A real end-user access token (JWT) obtained through CIBA (poll mode) for `user`. */
export async function userToken(op: RunningProvider, user: string): Promise<string> {
  const { auth_req_id } = await postForm(`${op.issuer}/backchannel`, { scope: 'openid api', login_hint: user, resource: AIRLOCK_RESOURCE }, 'cli-app');
  const body = await postForm(`${op.issuer}/token`, { grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: String(auth_req_id), resource: AIRLOCK_RESOURCE }, 'cli-app');
  return body.access_token as string;
}
