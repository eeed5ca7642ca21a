// What the API works with, built once by its caller and shared by every request: the Temporal client,
// the token verifier (with the shared revocation list), the audit store, the policy and registry stores, the
// MCP pool that scans servers for approval, the subject directory, and the shared Idempotency-Key and
// worker-heartbeat tables. Routes use these; they never construct a store, a pool or a connection.
import type { Client } from '@temporalio/client';
import { RegistryAudit } from '../audit/registry.js';
import type { AuditStore } from '../audit/types.js';
import type { AirlockConfig } from '../config/load.js';
import { EventHub } from '../events/hub.js';
import type { TokenVerifier } from '../identity/devIssuer.js';
import { SubjectDirectory } from '../identity/directory.js';
import { RevocationStore, withRevocations } from '../identity/revocations.js';
import type { Logger } from '../log/logger.js';
import { PolicySource } from '../policy/source.js';
import { defaultSecretSource } from '../registry/credentials.js';
import { LockStore } from '../registry/lock.js';
import { McpPool } from '../registry/pool.js';
import { registryStatusFile, StatusStore } from '../registry/status.js';
import { HeartbeatReader } from '../worker/heartbeat.js';
import { IdempotencyStore } from './idempotency.js';

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
  /** The token deny list (by `jti` and by subject), shared by every replica; `verifier` consults it. */
  revocations: RevocationStore;
  /** Subjects a service account may act on behalf of. */
  directory: SubjectDirectory;
  /** Idempotency-Key → request hash bindings, shared by every replica. */
  idempotency: IdempotencyStore;
  /** Workers' heartbeats, for readiness. */
  heartbeats: HeartbeatReader;
  /** The event stream's source (GET /v1/events): the audit store, tailed while clients listen. `close` ends every stream. */
  events: EventHub;
}

/** What only the caller can provide: the config and the connections it opened. */
export type ApiBase = Pick<ApiDeps, 'config' | 'client' | 'verifier' | 'log' | 'audit'>;

/**
 * The API's dependencies built from the config. Loads the policy set and the lockfile now, so a bad
 * policy directory, lockfile or directory file is a start-up error. The shared tables open on first use.
 * `close` releases the scan pool's and the shared tables' connections (the caller closes what it passed in).
 */
export function createApiDeps(base: ApiBase): ApiDeps & { close(): Promise<void> } {
  const { config, log, audit } = base;
  // First: a missing or malformed identity.directory.file is a start-up error, before anything is opened.
  const directory = new SubjectDirectory(config);
  const revocations = new RevocationStore(config);
  const idempotency = new IdempotencyStore(config);
  const heartbeats = new HeartbeatReader(config);
  const events = new EventHub(audit, log.child({ component: 'events' }));
  const scanPool = new McpPool(config.servers, log.child({ component: 'registry' }), undefined, {
    secrets: defaultSecretSource(config.env),
    allowedHosts: config.registry.allowedHosts,
  });
  return {
    ...base,
    // Every verified token is checked against the deny list, on every request.
    verifier: withRevocations(base.verifier, revocations),
    revocations,
    directory,
    idempotency,
    heartbeats,
    events,
    policies: new PolicySource(config.policy.dir),
    lock: new LockStore(config.registry.lockFile),
    statuses: new StatusStore(registryStatusFile(config)),
    registryAudit: new RegistryAudit(audit, log),
    scanPool,
    close: async () => {
      events.close();
      await scanPool.close();
      await Promise.all([revocations.close(), idempotency.close(), heartbeats.close()]);
    },
  };
}
