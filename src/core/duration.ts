// The duration grammar, once: config values, policy annotations and messages all use it.

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** What a duration looks like, for error messages. */
export const DURATION_HINT = 'a positive duration like 500ms, 30s, 15m, 72h or 3d';

/** `500ms|30s|15m|72h|3d` → milliseconds; undefined if malformed or not positive. */
export function parseDuration(s: string): number | undefined {
  const m = DURATION.exec(s);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

/** Milliseconds in the largest unit that divides them exactly: 259200000 → `72h`, 30000 → `30s` (weeks and more in days). */
export function formatDuration(ms: number): string {
  if (ms % UNITS.d === 0 && ms >= 7 * UNITS.d) return `${ms / UNITS.d}d`;
  for (const u of ['h', 'm', 's'] as const) if (ms % UNITS[u] === 0) return `${ms / UNITS[u]}${u}`;
  return `${ms}ms`;
}
