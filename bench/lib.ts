// Shared pieces of `npm run bench`: statistics, the row shape every section reports, and the table.
import { performance } from 'node:perf_hooks';

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function stats(samples: number[]): Stats {
  if (!samples.length) throw new Error('no samples: the measurement did not run');
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** One figure of Airlock paired with its baseline from the same invocation. */
export interface Row {
  metric: string;
  unit: string;
  airlock: number;
  baseline: number | null;
  /** airlock / baseline (for rates, baseline / airlock is reported as `slowdown` in the note). */
  ratio: number | null;
  /** The issue's target, in words, and whether this run met it (null: no target). */
  target?: string;
  met?: boolean | null;
}

export interface Section {
  id: string;
  title: string;
  baseline: string;
  rows: Row[];
  notes: string[];
}

export const row = (metric: string, unit: string, airlock: number, baseline: number | null, target?: { text: string; met: boolean }): Row => ({
  metric,
  unit,
  airlock: round(airlock),
  baseline: baseline === null ? null : round(baseline),
  ratio: baseline ? round(airlock / baseline) : null,
  ...(target ? { target: target.text, met: target.met } : {}),
});

export const round = (x: number) => (Math.abs(x) >= 100 ? Math.round(x * 10) / 10 : Math.round(x * 1000) / 1000);

export async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

/** Runs `fn` for each item with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
    }),
  );
  return out;
}

export function table(sections: Section[]): string {
  const lines: string[] = [];
  for (const s of sections) {
    lines.push('', `## ${s.title}`, `baseline: ${s.baseline}`, '');
    lines.push('| metric | airlock | baseline | ratio | target |', '|---|---:|---:|---:|---|');
    for (const r of s.rows) lines.push(`| ${r.metric} (${r.unit}) | ${r.airlock} | ${r.baseline ?? '—'} | ${r.ratio ?? '—'} | ${r.target ? `${r.target}: ${r.met ? 'met' : 'NOT met'}` : ''} |`);
    for (const n of s.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n');
}

/** A benchmark that cannot complete (a lost approval, a run that did not finish) fails loudly. */
export class BenchFailure extends Error {
  override name = 'BenchFailure';
}
