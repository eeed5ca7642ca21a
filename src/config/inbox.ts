// The config's `inbox` section: sessions, links and the inbox as an OIDC client (Authorization Code + PKCE).
// Part of the config schema (so its mistakes are reported with the others, at their line); src/inbox/settings.ts
// reads it with its defaults.
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';

const Duration = z.union([z.number().int().positive(), z.string().min(1)]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v : parseDuration(v);
  if (ms === undefined || !(ms > 0)) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 8h or 30m' });
    return z.NEVER;
  }
  return ms;
});

export const InboxSettingsSchema = z.strictObject({
  /** How long a sign-in lasts (never longer than the token it holds). */
  sessionTtl: Duration.default(8 * 3_600_000),
  /** The Temporal UI, for "open in Temporal" links; default: the local dev server's UI when Airlock runs one. */
  temporalUiUrl: z.url().optional(),
  /** Where people reach the API (the OIDC redirect URI is `<publicUrl>/inbox/auth/callback`); default: the request's own origin. */
  publicUrl: z.url().optional(),
  /** The inbox as an OIDC client (Authorization Code + PKCE), when `identity.issuer` is `oidc`. */
  oidc: z
    .strictObject({
      clientId: z.string().min(1),
      /** A confidential client's secret (`{env: NAME}` or `{file: PATH}`); unset: a public client (PKCE alone). */
      clientSecret: z.union([z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })]).optional(),
      scopes: z.array(z.string().min(1)).default(['openid']),
      /** RFC 8707 resource indicator, for providers that issue the API's JWT access token per resource. */
      resource: z.string().min(1).optional(),
      /** Extra authorization request parameters (Auth0's `audience`, for example). */
      authorizationParams: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
});
