// The inbox's settings: the config's `inbox` section (schema in src/config/inbox.ts, checked at config load) with
// its defaults, and the OIDC client secret resolved from its reference.
import type { z } from 'zod';
import type { AirlockConfig } from '../config/load.js';
import { InboxSettingsSchema } from '../config/inbox.js';
import { defaultSecretSource } from '../registry/credentials.js';

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
