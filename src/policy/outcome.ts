// Pieces of the engine's answers (engine.ts, "Outcomes" and "Holds"): which approval requirement applies, the
// sentences of a reason, and the labels a run is taken to hold when its caller gives none.
import { CLASSIFICATIONS, rank, type Classification } from '../core/classification.js';
import { formatDuration } from '../core/duration.js';
import { describeLabels, type LabelsContext } from '../core/labels.js';
import type { PolicyFacts } from './types.js';

/** The labels of a run that has touched nothing: what `context.labels` is when the request carries none. */
export const NO_LABELS: Readonly<LabelsContext> = Object.freeze({
  classification: 'public',
  level: 0,
  servers: [],
  untrusted: false,
  untrustedSources: [],
  sensitive: false,
});

/** A tool's `level`: the rank of its classification (public 0 … restricted 3); undefined for a name that is none. */
export function levelOf(classification: string): number | undefined {
  return (CLASSIFICATIONS as readonly string[]).includes(classification) ? rank(classification as Classification) : undefined;
}

/**
 * The policy whose approval requirement applies when several determine a call: the largest quorum; ties keep
 * the first by id (string order). The requirement is taken whole from that one policy, never merged.
 */
export function strictest(policies: readonly PolicyFacts[]): PolicyFacts {
  const sorted = [...policies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (sorted.length === 0 || sorted.some((p) => !p.approval)) throw new Error('strictest: every policy must carry an approval requirement');
  let chosen = sorted[0];
  for (const p of sorted.slice(1)) if (p.approval!.quorum > chosen.approval!.quorum) chosen = p;
  return chosen;
}

/** `billing.issue_refund needs approval by a member of finance (escalating …), expiring after 72h (policy refund-finance-approval)`. */
export function approvalSentence(actionId: string, p: PolicyFacts): string {
  const a = p.approval!;
  return (
    `${actionId} needs approval by ${a.quorum === 1 ? 'a member' : `${a.quorum} distinct members`} of ${a.group}` +
    `${a.escalateTo ? ` (escalating to ${a.escalateTo} after ${formatDuration(a.escalateAfterMs!)})` : ''}` +
    `${a.expiresAfterMs !== undefined ? `, expiring after ${formatDuration(a.expiresAfterMs)}` : ''} (policy ${p.id})`
  );
}

/** `policy a` / `policies a, b`, then the @reason of each that has one: `denied by policy a: why`. */
export function namedWithReasons(ids: readonly string[], byId: ReadonlyMap<string, PolicyFacts>): string {
  const why = ids
    .map((id) => byId.get(id)?.reason)
    .filter((r): r is string => !!r)
    .join('; ');
  return `${ids.length > 1 ? 'policies' : 'policy'} ${ids.join(', ')}${why ? `: ${why}` : ''}`;
}

/** What a reason appends when a policy that reads `context.labels` determined it: the labels that caused it. */
export function labelsNote(labels: LabelsContext): string {
  return ` (run labels: ${describeLabels(labels)})`;
}
