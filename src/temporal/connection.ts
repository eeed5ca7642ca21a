import type { TLSConfig } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import type { AirlockConfig } from '../config/load.js';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | true;
  apiKey?: string;
}

/**
 * Options shared by the client and the worker's native connection. TLS and API keys apply only to an
 * external cluster; the local dev server is plain gRPC on loopback. Files and keys are read here,
 * at startup, so a missing file or variable is a startup error naming it.
 */
export function temporalConnectionOptions(config: AirlockConfig, address: string): TemporalConnectionOptions {
  const t = config.temporal;
  if (!t.address) return { address };
  const read = (key: string, file: string | undefined) => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`temporal.tls.${key}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  let apiKey: string | undefined;
  if (t.apiKeyEnv) {
    apiKey = config.env[t.apiKeyEnv];
    if (!apiKey) throw new Error(`temporal.apiKeyEnv: environment variable ${t.apiKeyEnv} is not set`);
  }
  let tls: TLSConfig | true | undefined;
  if (typeof t.tls === 'object') {
    const crt = read('certFile', t.tls.certFile);
    const key = read('keyFile', t.tls.keyFile);
    tls = {
      serverNameOverride: t.tls.serverName,
      serverRootCACertificate: read('caFile', t.tls.caFile),
      clientCertPair: crt && key ? { crt, key } : undefined,
    };
  } else if (t.tls === true || (t.tls === undefined && apiKey)) tls = true;
  return { address, tls, apiKey };
}
