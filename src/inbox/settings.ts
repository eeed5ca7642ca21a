// The inbox's settings, read from the config's `inbox` section with defaults. The section is not in the config
// schema yet (src/config/schema.ts), so it is parsed here, once, with its own zod schema: a value of the wrong shape
// is a start-up error naming the key, as any other config mistake.
import { z } from 'zod';
import type { AirlockConfig } from '../config/load.js';
import { parseDuration } from '../core/duration.js';
import { defaultSecretSource } from '../registry/credentials.js';

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

export type InboxSettings = z.infer<typeof InboxSettingsSchema> & { clientSecret?: string };

export function inboxSettings(config: AirlockConfig): InboxSettings {
  const raw = (config as { inbox?: unknown }).inbox ?? {};
  const parsed = InboxSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`inbox.${i.path.join('.')}: ${i.message}`);
  }
  const s: InboxSettings = parsed.data;
  if (s.oidc?.clientSecret) s.clientSecret = defaultSecretSource(config.env).get(s.oidc.clientSecret);
  return s;
}

/** The Temporal UI's base URL: the setting, else the local dev server's UI (none with an external Temporal or uiPort 0). */
export function temporalUiUrl(config: AirlockConfig, s: InboxSettings): string | undefined {
  if (s.temporalUiUrl) return s.temporalUiUrl.replace(/\/+$/, '');
  const dev = config.temporal.devServer;
  if (config.temporal.address || dev.uiPort === 0) return undefined;
  return `http://${dev.ip}:${dev.uiPort}`;
}
