// Replays recorded run histories against today's workflow code and agent modules, so that a change that would break
// runs already in flight (a graph that now makes another model or tool call, or takes another path) fails before it
// is deployed. The bundle is the worker's own (workflowBundle(config): the configured agents.<name>.graph modules,
// the same webpack loaders); histories are JSON as `temporal workflow show --output json` or
// `historyToJSON(await handle.fetchHistory())` write them. `airlock replay` (src/cli/replay.ts) is the command line.
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { AirlockConfig } from '../config/load.js';
import { workflowTracingSinks } from '../observability/tracing.js';
import { decodeHistory, hasEncryptedPayloads, payloadCodec } from '../temporal/codec.js';
import { temporalConnectionOptions } from '../temporal/connection.js';
import { workflowBundle } from './bundle.js';

export interface ReplayOutcome {
  /** The history file, as given. */
  file: string;
  /** The run's workflow id (from the history's start event; else the file's name). */
  workflowId: string;
  ok: boolean;
  /** One line: the first mismatch for a nondeterminism error, else what went wrong. */
  error?: string;
  /** `nondeterminism`: today's code takes another path than the history; `failure`: the workflow task failed; `invalid`: not a history. */
  kind?: 'nondeterminism' | 'failure' | 'invalid';
}

interface LoadedHistory {
  workflowId: string;
  history: History;
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** A history file: `{ "events": [...] }` as JSON (proto3 JSON, as the Temporal CLI and historyToJSON write it). */
export function readHistory(file: string): LoadedHistory {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read a history: ${oneLine((err as Error).message)}`, { cause: err });
  }
  const events = (raw as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0 || typeof events[0] !== 'object' || events[0] === null) {
    throw new Error('not a Temporal history (expected JSON with a non-empty "events" array, as `temporal workflow show --output json` writes it)');
  }
  let history: History;
  try {
    history = historyFromJSON(raw);
  } catch (err) {
    throw new Error(`not a Temporal history: ${oneLine((err as Error).message)}`, { cause: err });
  }
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error('not a Temporal history: its first event is not WorkflowExecutionStarted');
  return { workflowId: started.workflowId || basename(file).replace(/\.json$/, ''), history };
}

/** The history files among `paths`: files as given, directories searched (recursively) for `*.json`, sorted. */
export function historyFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.json')) out.push(p);
    }
  };
  for (const p of paths) {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      // a missing file: replayHistories reports it
    }
    if (dir) walk(p);
    else out.push(p);
  }
  return out;
}

/** What an event of the history was: its type, and for activities and local activities, which one and its summary. */
function eventLabel(history: History, id: number): string | undefined {
  const e = history.events?.find((x) => Number(x.eventId) === id);
  if (!e) return undefined;
  // The event's type, from its one set `…EventAttributes` field (activityTaskScheduledEventAttributes → ActivityTaskScheduled).
  const attrs = Object.entries(e).find(([k, v]) => k.endsWith('EventAttributes') && v)?.[0];
  const type = attrs ? attrs[0]!.toUpperCase() + attrs.slice(1, -'EventAttributes'.length) : 'event';
  let summary: string | undefined;
  const data = e.userMetadata?.summary?.data;
  if (data?.length) {
    try {
      const v: unknown = JSON.parse(new TextDecoder().decode(data));
      summary = typeof v === 'string' ? v : JSON.stringify(v);
    } catch {
      // no readable summary
    }
  }
  const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
  const what = activity ?? (e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? 'local activity' : undefined);
  const clip = (x: string) => (x.length > 100 ? `${x.slice(0, 99)}…` : x);
  return [`event ${id} ${type}`, what, summary && JSON.stringify(clip(oneLine(summary)))].filter(Boolean).join(' ');
}

/** The first mismatch of a replay error, on one line, with the history event it names. */
function describe(error: Error, history: History): { kind: 'nondeterminism' | 'failure'; error: string } {
  const details = oneLine(error.message.replace(/^[\s\S]*?Details: /, ''));
  const at = /HistoryEvent\(id: (\d+)/.exec(details);
  const label = at ? eventLabel(history, Number(at[1])) : undefined;
  const where = label ? ` (history ${label})` : '';
  // Core's failure debug-prints as `Failure { failure: Some(Failure { message: "[TMPRL1100] Nondeterminism error: …", … }`.
  const quoted = /message: "((?:[^"\\]|\\.)*)"/.exec(details)?.[1]?.replace(/\\(.)/g, '$1');
  const reason = (quoted ?? details).replace(/^\[TMPRL\d+\]\s*/, '');
  if (error instanceof DeterminismViolationError) return { kind: 'nondeterminism', error: `nondeterminism: ${reason.replace(/^Nondeterminism error:\s*/i, '')}${where}` };
  return { kind: 'failure', error: `workflow task failed: ${reason}${where}` };
}

export interface ReplayOptions {
  /** A prebuilt bundle (tests that replay against several configs build each once); default workflowBundle(config). */
  bundle?: Awaited<ReturnType<typeof workflowBundle>>;
  /** Decrypts histories with encrypted payloads (`temporal workflow show` output); default: the config's keys, when it has them. */
  codec?: PayloadCodec;
}

type ReplayConfig = Pick<AirlockConfig, 'agents' | 'configFile'> & Partial<Pick<AirlockConfig, 'temporal' | 'dataDir' | 'env'>>;

/**
 * Replays each history file against the worker bundle of `config` (its workflows and agents.<name>.graph modules), one
 * outcome per file, in order. A file that is not a history is an `invalid` outcome, not an exception; a broken agent
 * module throws the AgentBundleError that `airlock worker` would.
 */
export async function replayHistories(config: ReplayConfig, files: string[], opts: ReplayOptions = {}): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const queue: Array<{ workflowId: string; history: History; outcome: ReplayOutcome }> = [];
  let codec = opts.codec;
  for (const file of files) {
    try {
      const { workflowId, history } = readHistory(file);
      // Histories recorded by `airlock replay --fetch` are plain; others may hold payloads encrypted by the codec.
      if (await hasEncryptedPayloads(history)) {
        if (!codec && !(config.temporal && config.dataDir && config.env)) throw new Error('the history has encrypted payloads and no payload keys are configured');
        codec ??= payloadCodec(config as Required<ReplayConfig>);
        await decodeHistory(history, codec);
      }
      const outcome: ReplayOutcome = { file, workflowId, ok: false };
      outcomes.push(outcome);
      queue.push({ workflowId, history, outcome });
    } catch (err) {
      outcomes.push({ file, workflowId: basename(file).replace(/\.json$/, ''), ok: false, kind: 'invalid', error: (err as Error).message });
    }
  }
  if (queue.length) {
    const bundle = opts.bundle ?? (await workflowBundle(config));
    // One history at a time: each result answers the history pushed before it.
    let n = 0;
    // The bundle's tracing interceptors export through the `exporter` sink (a replay worker never calls it).
    for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'airlock-replay', sinks: workflowTracingSinks() }, queue)) {
      const { outcome } = queue[n++]!;
      outcome.ok = !r.error;
      if (r.error) Object.assign(outcome, describe(r.error, queue[n - 1]!.history));
    }
  }
  return outcomes;
}

/** A Temporal client for the configured cluster, or the local dev server `airlock start` runs. */
export async function temporalClient(config: AirlockConfig): Promise<{ client: Client; close(): Promise<void> }> {
  const t = config.temporal;
  const address = t.address ?? `${t.devServer.ip}:${t.devServer.port}`;
  // The keys first: a missing key is a start-up error, before any connection.
  const codec = payloadCodec(config);
  const connection = await Connection.connect(temporalConnectionOptions(config, address));
  return { client: new Client({ connection, namespace: t.namespace, dataConverter: { payloadCodecs: [codec] } }), close: () => connection.close() };
}

/**
 * Writes the histories of runs (run id = workflow id) as `<outDir>/<runId>.json`, for replaying later: record production
 * runs of an agent and replay them against every change to it. A run still in flight gives the history so far, which
 * replays too. Payloads are decrypted with the client's codecs, so the files replay without the keys: they hold the
 * runs' data in clear, keep them like the data itself. Returns the files written.
 */
export async function fetchHistories(client: Client, runIds: string[], outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const runId of runIds) {
    const handle = client.workflow.getHandle(runId);
    const file = resolve(outDir, `${runId.replace(/[^\w.-]/g, '_')}.json`);
    let history = await handle.fetchHistory();
    for (const codec of [...(client.options.loadedDataConverter.payloadCodecs ?? [])].reverse()) history = await decodeHistory(history, codec);
    writeFileSync(file, historyToJSON(history) + '\n');
    written.push(file);
  }
  return written;
}
