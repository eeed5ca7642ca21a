// Data-flow labels: what a run has touched. A run starts with its input's labels and, each time it sees a tool
// result, takes on that server's classification and trust. Labels only ever rise within a run (and across
// continue-as-new), so a decision can never forget what the run already holds. Policy sees them as
// `context.labels` (the Rule of Two and "no write down" are Cedar policies, not code); routing uses the
// classification to check a model's clearance before a read whose result it would be shown.
import { clearedFor, DEFAULT_CLASSIFICATION, maxClassification, rank, type Classification } from './classification.js';

export type Trust = 'trusted' | 'untrusted';

export interface RunLabels {
  /** The highest classification the run has held: its input's, and every server's whose result it has seen. */
  classification: Classification;
  /** Servers whose results the run has seen, sorted. */
  servers: string[];
  /** Whether content from outside the company has entered the run (an untrusted input, server or tool). */
  untrusted: boolean;
  /** Where untrusted content came from: `input`, or `server.tool`, sorted. */
  untrustedSources: string[];
}

/** What policy sees as `context.labels` (declare it in the schema as the `Labels` record of examples/policies). */
export interface LabelsContext {
  classification: Classification;
  /** The classification's rank (public 0, internal 1, confidential 2, restricted 3): Cedar compares numbers, not names. */
  level: number;
  servers: string[];
  untrusted: boolean;
  untrustedSources: string[];
  /** Holds data classified confidential or above: one leg of the Rule of Two. */
  sensitive: boolean;
}

/** From `confidential` up, data is sensitive: one leg of the Rule of Two. */
export const SENSITIVE_FROM: Classification = 'confidential';

export const isSensitive = (c: Classification): boolean => rank(c) >= rank(SENSITIVE_FROM);

/**
 * A run's labels at its start: what its input is (the agent's `inputClassification` and `inputTrust`). A run started
 * before agents carried them has the defaults: internal, trusted.
 */
export function initialLabels(input: { classification: Classification; trust: Trust } = { classification: DEFAULT_CLASSIFICATION, trust: 'trusted' }): RunLabels {
  const untrusted = input.trust === 'untrusted';
  return { classification: input.classification, servers: [], untrusted, untrustedSources: untrusted ? ['input'] : [] };
}

/** What one tool result brings into the run. */
export interface SeenResult {
  server: string;
  tool: string;
  classification: Classification;
  trust: Trust;
}

/** The labels after the run has seen `seen`: never lower than before. */
export function raiseLabels(labels: RunLabels, seen: SeenResult): RunLabels {
  const untrusted = seen.trust === 'untrusted';
  return {
    classification: maxClassification([labels.classification, seen.classification]),
    servers: union(labels.servers, [seen.server]),
    untrusted: labels.untrusted || untrusted,
    untrustedSources: untrusted ? union(labels.untrustedSources, [`${seen.server}.${seen.tool}`]) : labels.untrustedSources,
  };
}

/** The union of two label sets (a carried record and the current one): what either holds. */
export function joinLabels(a: RunLabels, b: RunLabels): RunLabels {
  return {
    classification: maxClassification([a.classification, b.classification]),
    servers: union(a.servers, b.servers),
    untrusted: a.untrusted || b.untrusted,
    untrustedSources: union(a.untrustedSources, b.untrustedSources),
  };
}

/** Whether `next` holds anything `prev` did not (worth an audit record and a search-attribute update). */
export function labelsRose(prev: RunLabels, next: RunLabels): boolean {
  return (
    next.classification !== prev.classification || next.untrusted !== prev.untrusted || next.servers.length !== prev.servers.length || next.untrustedSources.length !== prev.untrustedSources.length
  );
}

export function labelsContext(l: RunLabels): LabelsContext {
  return {
    classification: l.classification,
    level: rank(l.classification),
    servers: [...l.servers],
    untrusted: l.untrusted,
    untrustedSources: [...l.untrustedSources],
    sensitive: isSensitive(l.classification),
  };
}

/** One line for reasons and logs: `restricted (billing, crm); untrusted from ticketing.get_ticket`. */
export function describeLabels(l: RunLabels): string {
  const held = `${l.classification}${l.servers.length ? ` (from ${l.servers.join(', ')})` : ''}`;
  return `holds ${held}; ${l.untrusted ? `untrusted from ${l.untrustedSources.join(', ')}` : 'no untrusted content'}`;
}

/** A trust setting of the catalog: the tool's own where given, else its server's. */
export function trustOf(server: { trust?: Trust; toolTrust?: Record<string, Trust> } | undefined, tool: string): Trust {
  return server?.toolTrust?.[tool] ?? server?.trust ?? 'trusted';
}

/**
 * The three legs of the Rule of Two (Meta, "Agents Rule of Two"): an agent that can take in untrusted input, hold
 * sensitive data and change state or send outward in one run must have a human in the loop for the last.
 */
export interface RuleOfTwoLegs {
  /** Where untrusted content can come from (`input`, `server` or `server.tool`). */
  untrusted: string[];
  /** Where sensitive data can come from (`input`, or a server classified confidential or above). */
  sensitive: string[];
  /** Tools that change state or send outward (`server.tool`). */
  acts: string[];
}

export const combinesAllLegs = (legs: RuleOfTwoLegs): boolean => legs.untrusted.length > 0 && legs.sensitive.length > 0 && legs.acts.length > 0;

/** Whether a model cleared for `clearance` may be shown what the run would hold after `seen`. */
export function clearedAfter(clearance: Classification, labels: RunLabels, seen: Pick<SeenResult, 'classification'>): boolean {
  return clearedFor(clearance, maxClassification([labels.classification, seen.classification]));
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
