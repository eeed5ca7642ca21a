// What the API works with, built once by its caller and shared by every request: the Temporal client,
// the token verifier, the audit store, the policy and registry stores, and the MCP pool that scans
// servers for approval. Routes use these; they never construct a store, a pool or a connection.
import type { Client } from '@temporalio/client';
import { RegistryAudit } from '../audit/registry.js';
import type { AuditStore } from '../audit/types.js';
import type { AirlockConfig } from '../config/load.js';
import type { TokenVerifier } from '../identity/devIssuer.js';
import type { Logger } from '../log/logger.js';
import { PolicySource } from '../policy/source.js';
import { defaultSecretSource } from '../registry/credentials.js';
import { LockStore } from '../registry/lock.js';
import { McpPool } from '../registry/pool.js';
import { registryStatusFile, StatusStore } from '../registry/status.js';

export interface ApiDeps {
  config: AirlockConfig;
  client: Client;
  verifier: TokenVerifier;
  log: Logger;
  audit: AuditStore;
  /** The policy set new decisions use (workers reload the same directory on change). */
  policies: PolicySource;
  /** The registry's pins (workers enforce them). */
  lock: LockStore;
  /** Admin status decisions (quarantine, retire, approve), shared with the workers through the data dir. */
  statuses: StatusStore;
  /** Registry changes on the audit trail, recorded before they are applied. */
  registryAudit: RegistryAudit;
  /**
   * Connections to the catalog's servers for scanning and pinning on approval. Unverified on purpose:
   * an admin approves a server the registry refuses. `liveTools` asks the server for its tools on every
   * call, so a scan sees the definitions as they are now.
   */
  scanPool: McpPool;
}

/** What only the caller can provide: the config and the connections it opened. */
export type ApiBase = Pick<ApiDeps, 'config' | 'client' | 'verifier' | 'log' | 'audit'>;

/**
 * The API's dependencies built from the config. Loads the policy set and the lockfile now, so a bad
 * policy directory or lockfile is a start-up error. `close` releases the scan pool's connections (the
 * caller closes what it passed in).
 */
export function createApiDeps(base: ApiBase): ApiDeps & { close(): Promise<void> } {
  const { config, log, audit } = base;
  const scanPool = new McpPool(config.servers, log.child({ component: 'registry' }), undefined, {
    secrets: defaultSecretSource(config.env),
    allowedHosts: config.registry.allowedHosts,
  });
  return {
    ...base,
    policies: new PolicySource(config.policy.dir),
    lock: new LockStore(config.registry.lockFile),
    statuses: new StatusStore(registryStatusFile(config)),
    registryAudit: new RegistryAudit(audit, log),
    scanPool,
    close: () => scanPool.close(),
  };
}
