// Approving servers: scan every tool definition for poisoning, then pin what was reviewed.
// Shared by `airlock registry pin|approve` and `POST /v1/registry/servers/:server/approve`.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AirlockConfig } from '../config/load.js';
import type { LockStore } from './lock.js';
import type { McpPool } from './pool.js';
import { describeFindings, scanTools, type Finding } from './scanner.js';

export type ApproveResult =
  | {
      ok: true;
      pinned: Array<{ server: string; tools: number; overridden: number }>;
      /** Servers asked for that could not be reached or listed: not pinned, each with why (secrets masked). The others are pinned. */
      failed: Array<{ server: string; error: string }>;
    }
  | { ok: false; findings: Array<{ server: string; findings: Finding[]; text: string }> };

/** What a pin is recorded as before it is written: if the record cannot be written, the pin is not either. */
export type PinRecorder = (pinned: { server: string; tools: number; overridden: number }) => Promise<void>;

export async function scanAndPin(
  config: AirlockConfig,
  pool: McpPool,
  lock: LockStore,
  servers: string[],
  by: string,
  override?: string,
  record: PinRecorder = async () => {},
): Promise<ApproveResult> {
  for (const s of servers) if (!config.servers[s]) throw new Error(`unknown server "${s}" (catalog: ${Object.keys(config.servers).join(', ')})`);
  // Every live server of the catalog is listed, so references to other servers' tools can be recognised.
  // Each on its own: one that fails (refused URL, 401, bad token, redirect) costs only its own pin.
  const live: Record<string, Tool[]> = {};
  const failed: Array<{ server: string; error: string; cause: unknown }> = [];
  const ids = Object.keys(config.servers).filter((id) => config.servers[id]!.status !== 'retired' || servers.includes(id));
  await Promise.all(
    ids.map(async (id) => {
      try {
        live[id] = await pool.liveTools(id);
      } catch (err) {
        if (servers.includes(id)) failed.push({ server: id, error: (err as Error).message, cause: err });
      }
    }),
  );
  // Nothing asked for could be listed: fail as before (one server: its own error).
  if (failed.length === servers.length) throw failed.length === 1 ? failed[0]!.cause : new Error(failed.map((f) => `${f.server}: ${f.error}`).join('; '));
  const scanned = servers
    .filter((server) => live[server])
    .map((server) => {
      const otherTools = Object.entries(live)
        .filter(([id]) => id !== server)
        .flatMap(([id, tools]) => tools.map((t) => `${id}.${t.name}`));
      const findings = scanTools(live[server]!.map((t) => ({ ...t, inputSchema: t.inputSchema as Record<string, unknown> })) as never, {
        server,
        otherServers: Object.keys(config.servers).filter((id) => id !== server),
        otherTools,
        urlAllowlist: config.registry.urlAllowlist,
      });
      return { server, findings, text: describeFindings(findings) };
    });
  const blocked = scanned.filter((x) => x.findings.length > 0);
  if (blocked.length && !override) return { ok: false, findings: blocked };
  const pinned: Array<{ server: string; tools: number; overridden: number }> = [];
  for (const { server, findings, text } of scanned) {
    const p = { server, tools: live[server]!.length, overridden: findings.length };
    // Audit first (fail closed): a pin nobody can see in the audit trail is never written.
    await record(p);
    lock.pin(server, live[server]!, by, findings.length ? { by, reason: override!, findings: text.split('\n') } : undefined);
    pinned.push(p);
  }
  return { ok: true, failed: failed.map(({ server, error }) => ({ server, error })), pinned };
}
