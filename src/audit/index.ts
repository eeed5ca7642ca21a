// Opens the configured audit store: PostgreSQL when a database URL is set, else the SQLite file.
import { resolve } from 'node:path';
import type { AirlockConfig } from '../config/load.js';
import { defaultSecretSource } from '../registry/credentials.js';
import type { AuditStoreOptions } from './identity.js';
import { PostgresAuditStore } from './postgres.js';
import { Redactor } from './redact.js';
import { SqliteAuditStore } from './sqlite.js';
import type { AuditQuery, AuditRecord, AuditStore } from './types.js';

export function auditPaths(config: AirlockConfig): { file: string; anchorFile: string } {
  return { file: resolve(config.dataDir, config.audit.file), anchorFile: resolve(config.dataDir, config.audit.anchorFile) };
}

/** Opens the store; `opts.log` is told, once, when the store's database is found replaced or removed (every write is refused then). */
export async function openAuditStore(config: AirlockConfig, opts: AuditStoreOptions = {}): Promise<AuditStore> {
  const { file, anchorFile } = auditPaths(config);
  if (config.audit.databaseUrl) return PostgresAuditStore.open(config.audit.databaseUrl, config.audit.schema, anchorFile, opts);
  return new SqliteAuditStore(file, anchorFile, opts);
}

/** The configured field rules, plus every server credential this process can resolve (masked wherever it appears). */
export function createRedactor(config: AirlockConfig): Redactor {
  const secrets: string[] = [];
  const source = defaultSecretSource(config.env);
  for (const server of Object.values(config.servers)) {
    const refs = [...server.credentials.map((c) => c.from), ...(server.transport === 'http' && server.oauth ? [server.oauth.clientSecret] : [])];
    for (const ref of refs) {
      try {
        secrets.push(source.get(ref));
      } catch {
        // Unresolvable here: the server refuses to connect anyway, and the value cannot leak from this process.
      }
    }
  }
  return new Redactor({ fields: config.audit.redact, secrets });
}

/** Every record matching a query, in write order, a page at a time (exports and run stories). */
export async function* allRecords(store: AuditStore, q: Omit<AuditQuery, 'limit'>): AsyncGenerator<AuditRecord> {
  for (let after = q.after; ;) {
    const page = await store.query({ ...q, after, limit: 1000 });
    yield* page;
    if (page.length < 1000) return;
    after = page.at(-1)!.seq;
  }
}

export type { AuditStore } from './types.js';
export { AuditStoreReplaced, type AuditStoreOptions } from './identity.js';
