// Per-server credentials: read from a secret source at connection time and handed only to that
// server's transport. Nothing here is logged, returned to callers, or stored in workflow state.
import { readFileSync } from 'node:fs';
import type { ServerConfig } from '../config/schema.js';

/** Where secrets come from. The default reads environment variables and files; a vault can implement it. */
export interface SecretSource {
  get(ref: { env: string } | { file: string }): string;
}

export class CredentialError extends Error {
  override readonly name = 'CredentialError';
}

export const defaultSecretSource = (env: Readonly<Record<string, string | undefined>>): SecretSource => ({
  get(ref) {
    if ('env' in ref) {
      const v = env[ref.env];
      if (v === undefined || v === '') throw new CredentialError(`secret variable ${ref.env} is not set`);
      return v;
    }
    try {
      return readFileSync(ref.file, 'utf8').trim();
    } catch (err) {
      throw new CredentialError(`secret file ${ref.file} is unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  },
});

/**
 * The env additions (stdio) and headers (http) for one server, and the secret values themselves (for
 * the pool to mask wherever they turn up). Errors name the reference, never a value.
 */
export function resolveCredentials(cfg: ServerConfig, source: SecretSource): { env: Record<string, string>; headers: Record<string, string>; values: string[] } {
  const env: Record<string, string> = {};
  const headers: Record<string, string> = {};
  const values: string[] = [];
  for (const c of cfg.credentials) {
    const value = source.get(c.from);
    values.push(value);
    if ('env' in c.inject) {
      if (cfg.transport !== 'stdio') throw new CredentialError(`credentials inject.env needs a stdio server`);
      env[c.inject.env] = value;
    } else {
      if (cfg.transport !== 'http') throw new CredentialError(`credentials inject.header needs an http server`);
      headers[c.inject.header] = `${c.inject.prefix}${value}`;
    }
  }
  return { env, headers, values };
}
