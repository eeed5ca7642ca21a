// Registry events (pin, approve, quarantine, retire, drift) on the `registry` chain.
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { AuditEventInput, AuditEventType, AuditStore } from './types.js';
import type { Json } from '../core/types.js';

export class RegistryAudit {
  constructor(
    private readonly store: AuditStore,
    private readonly log?: Logger,
  ) {}

  /** An admin's change: recorded before it is reported done (the caller fails if this throws). */
  async record(type: AuditEventType, server: string, principal: string, outcome: string, data: { [k: string]: Json }): Promise<void> {
    await this.store.append([this.event(randomUUID(), type, server, principal, outcome, data)]);
  }

  /**
   * A worker found a server's tools differ from its pins. Workers that see the same drift write the
   * same event id, so it is recorded once. Never throws: the call is refused either way.
   */
  async drift(server: string, detail: string): Promise<void> {
    const id = `drift/${server}/${createHash('sha256').update(detail).digest('hex').slice(0, 32)}`;
    try {
      await this.store.append([this.event(id, 'registry.drift', server, 'airlock-worker', 'quarantined', { detail })]);
    } catch (err) {
      this.log?.error({ err: (err as Error).message, mcpServer: server }, 'audit: could not record drift');
    }
  }

  private event(eventId: string, type: AuditEventType, server: string, principal: string, outcome: string, data: { [k: string]: Json }): AuditEventInput {
    return { eventId, chain: 'registry', type, at: new Date().toISOString(), principal, server, outcome, data };
  }
}
