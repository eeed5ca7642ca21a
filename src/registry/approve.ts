// Approving servers: scan every tool definition for poisoning (the pattern and review-grade checks,
// and the model-assisted review when `registry.review.model` is set), then pin what was reviewed.
// Shared by `airlock registry pin|approve` and `POST /v1/registry/servers/:server/approve`.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AirlockConfig } from '../config/load.js';
import { compareTools, LockError, type LockStore } from './lock.js';
import type { McpPool } from './pool.js';
import { reviewPlanner, reviewWithModel } from './reviewModel.js';
import { toolsToReview, type ReviewedTool } from './reviewShow.js';
import { describeFindings, scanTools, type Finding } from './scanner.js';

/** What the reviewer is shown for one server: its new and changed definitions (with diffs) and its removed tools. */
export interface ServerReview {
  server: string;
  tools: ReviewedTool[];
  removed: string[];
}

export type ApproveResult =
  | {
      ok: true;
      pinned: Array<{ server: string; tools: number; overridden: number }>;
      /** Servers asked for that could not be reached or listed: not pinned, each with why (secrets masked). The others are pinned. */
      failed: Array<{ server: string; error: string }>;
      reviewed: ServerReview[];
    }
  | { ok: false; findings: Array<{ server: string; findings: Finding[]; text: string }>; reviewed: ServerReview[] };

export interface ScanAndPinOptions {
  /** The named person who reviewed the definitions (recorded in the lockfile as reviewedBy). */
  reviewer?: string;
  signal?: AbortSignal;
}

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
  { reviewer, signal }: ScanAndPinOptions = {},
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
  // What changed since the previous pins: shown to the reviewer, and what the model reviews.
  const pins = lock.current();
  const planner = reviewPlanner(config);
  const reviewed: ServerReview[] = [];
  const scanned: Array<{ server: string; findings: Finding[]; text: string }> = [];
  for (const server of servers.filter((id) => live[id])) {
    const previous = pins instanceof LockError ? undefined : pins.servers[server];
    const tools = toolsToReview(live[server]!, previous);
    reviewed.push({ server, tools, removed: previous ? (compareTools(previous, live[server]!)?.removed ?? []) : [] });
    const otherTools = Object.entries(live)
      .filter(([id]) => id !== server)
      .flatMap(([id, ts]) => ts.map((t) => `${id}.${t.name}`));
    const findings = scanTools(live[server]!.map((t) => ({ ...t, inputSchema: t.inputSchema as Record<string, unknown> })) as never, {
      server,
      otherServers: Object.keys(config.servers).filter((id) => id !== server),
      otherTools,
      urlAllowlist: config.registry.urlAllowlist,
    });
    if (planner && tools.length) findings.push(...(await reviewWithModel(planner, server, tools, { signal })));
    scanned.push({ server, findings, text: describeFindings(findings) });
  }
  const blocked = scanned.filter((x) => x.findings.length > 0);
  if (blocked.length && !override) return { ok: false, findings: blocked, reviewed };
  const pinned: Array<{ server: string; tools: number; overridden: number }> = [];
  for (const { server, findings, text } of scanned) {
    const p = { server, tools: live[server]!.length, overridden: findings.length };
    // Audit first (fail closed): a pin nobody can see in the audit trail is never written.
    await record(p);
    lock.pin(server, live[server]!, by, findings.length ? { by, reason: override!, findings: text.split('\n') } : undefined, reviewer);
    pinned.push(p);
  }
  return { ok: true, failed: failed.map(({ server, error }) => ({ server, error })), pinned, reviewed };
}
