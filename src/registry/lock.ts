// The registry lockfile: what each approved server's tools looked like when a human pinned them.
// Any difference on a live connection (a changed description or schema, an added, removed or
// renamed tool) is drift, and the server's calls fail closed until someone re-approves it. The
// quarantine is written here too, so it holds (in every worker, across restarts, and when the server
// restores its old definitions) until a re-approval replaces the server's pins.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { digestOf } from '../core/canonical.js';
import { JsonStateFile } from './jsonFile.js';

/** The parts of a tool definition that are pinned: everything the model sees or the call depends on. */
export function toolDefinition(t: Tool): Record<string, unknown> {
  return {
    name: t.name,
    title: t.title,
    description: t.description ?? '',
    inputSchema: t.inputSchema,
    outputSchema: t.outputSchema,
    annotations: t.annotations,
    // Metadata servers attach for clients (and that some clients show a model) is pinned too.
    _meta: t._meta,
  };
}

export function toolHash(t: Tool): string {
  return digestOf(toolDefinition(t));
}

const LockedTool = z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), definition: z.record(z.string(), z.unknown()) });
const LockedServer = z.strictObject({
  pinnedAt: z.string(),
  pinnedBy: z.string(),
  /** The named person who reviewed the definitions before they were pinned (`registry approve --by`, the REST caller). */
  reviewedBy: z.string().optional(),
  reviewedAt: z.string().optional(),
  tools: z.record(z.string(), LockedTool),
  /** When scanner findings were accepted by an admin: who, why, and what was found. */
  override: z.strictObject({ by: z.string(), reason: z.string().min(1), findings: z.array(z.string()) }).optional(),
  /** Set by a worker that found drift; only a re-approval (new pins) clears it. */
  quarantined: z.strictObject({ at: z.string(), reason: z.string() }).optional(),
});
export const LockFileSchema = z.strictObject({ version: z.literal(1), servers: z.record(z.string(), LockedServer) });
export type LockFile = z.infer<typeof LockFileSchema>;
export type LockedServer = z.infer<typeof LockedServer>;

export interface Drift {
  changed: string[];
  added: string[];
  removed: string[];
}

export function compareTools(locked: LockedServer, live: Tool[]): Drift | undefined {
  const liveByName = new Map(live.map((t) => [t.name, t]));
  const changed: string[] = [];
  const added: string[] = [];
  for (const t of live) {
    const pin = locked.tools[t.name];
    if (!pin) added.push(t.name);
    else if (pin.sha256 !== toolHash(t)) changed.push(t.name);
  }
  const removed = Object.keys(locked.tools).filter((n) => !liveByName.has(n));
  return changed.length || added.length || removed.length ? { changed, added, removed } : undefined;
}

export function describeDrift(d: Drift): string {
  const parts = [d.changed.length ? `changed: ${d.changed.join(', ')}` : '', d.added.length ? `added: ${d.added.join(', ')}` : '', d.removed.length ? `removed: ${d.removed.join(', ')}` : ''].filter(
    Boolean,
  );
  return parts.join('; ');
}

export class LockError extends Error {
  override readonly name = 'LockError';
}

/**
 * The lockfile on disk, re-read when it changes (a re-approval takes effect without a restart).
 * A missing file means nothing is pinned; an unreadable or invalid one is an error for every server
 * (fail closed), never "no pins".
 */
export class LockStore {
  private readonly store: JsonStateFile<LockFile>;

  constructor(readonly file: string) {
    this.store = new JsonStateFile(
      file,
      LockFileSchema,
      () => ({ version: 1 as const, servers: {} }),
      (m) => new LockError(m),
    );
    const first = this.current();
    if (first instanceof LockError) throw first;
  }

  current(): LockFile | LockError {
    return this.store.current() as LockFile | LockError;
  }

  /** Writes the pins of one server atomically (write to a temp file, then rename). */
  pin(server: string, tools: Tool[], by: string, override?: LockedServer['override'], reviewedBy?: string): LockedServer {
    const cur = this.current();
    if (cur instanceof LockError) throw cur;
    const pinnedAt = new Date().toISOString();
    const entry: LockedServer = {
      pinnedAt,
      pinnedBy: by,
      ...(reviewedBy ? { reviewedBy, reviewedAt: pinnedAt } : {}),
      tools: Object.fromEntries([...tools].sort((a, b) => a.name.localeCompare(b.name)).map((t) => [t.name, { sha256: toolHash(t), definition: toolDefinition(t) }])),
      ...(override ? { override } : {}),
    };
    this.write(cur, server, entry);
    return entry;
  }

  /**
   * Records that the pins of `pinnedAt` drifted. Not when they were replaced meanwhile (a re-approval
   * that raced the drift wins); throws when the file cannot be written (the caller holds it in memory).
   */
  quarantine(server: string, pinnedAt: string, reason: string): void {
    const cur = this.current();
    if (cur instanceof LockError) throw cur;
    const entry = cur.servers[server];
    if (!entry || entry.pinnedAt !== pinnedAt || entry.quarantined) return;
    this.write(cur, server, { ...entry, quarantined: { at: new Date().toISOString(), reason } });
  }

  private write(cur: LockFile, server: string, entry: LockedServer): void {
    const servers = { ...cur.servers, [server]: entry };
    this.store.write({ version: 1, servers: Object.fromEntries(Object.entries(servers).sort(([a], [b]) => a.localeCompare(b))) });
  }
}
