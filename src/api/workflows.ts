// What the API reads from a run's workflow.
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { getRunQuery } from '../../workflows/definitions.js';
import type { AirlockConfig } from '../config/load.js';
import { proofClaimsOf, type ProofKind } from '../core/proof.js';
import type { RunView } from '../core/types.js';
import { decisionProofs } from '../identity/decisionProof.js';
import { ErrorCode } from '../core/errors.js';
import { ApiError, decisionRefusal, notFound } from './errors.js';

/** How long a run's worker has to answer the view query (Temporal's own limit is 30 s). */
const QUERY_DEADLINE_MS = 10_000;

/**
 * The run's current view: queried from the workflow, or for a closed run that cannot be replayed, its recorded
 * result. An open run that does not answer (no worker) is a 503 within QUERY_DEADLINE_MS: its result would wait until it closes.
 */
export async function runView(client: Client, runId: string): Promise<RunView> {
  const handle = client.workflow.getHandle(runId);
  try {
    return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(getRunQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(`run ${runId}`);
    const open = await handle.describe().then(
      (d) => d.status.name === 'RUNNING',
      () => true,
    );
    if (open) throw new ApiError(ErrorCode.RunUnavailable, `run ${runId} did not answer (is a worker polling its task queue?): ${rootMessage(err)}`, undefined, { cause: err });
    const recorded = await recordedView(handle);
    if (recorded) return recorded;
    throw err;
  }
}

/** The innermost cause's message: the client wraps a gRPC status ("query timed out …") twice. */
function rootMessage(err: unknown): string {
  let e = err as Error | undefined;
  while (e?.cause instanceof Error) e = e.cause;
  return (e?.message ?? String(err)).replace(/^\d+ [A-Z_]+: /, '');
}

/** A closed run's view as its result recorded it (undefined when the result carries none). */
async function recordedView(handle: WorkflowHandle): Promise<RunView | undefined> {
  try {
    return (await handle.result()) as RunView;
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) return err.cause.details?.[0] as RunView | undefined;
    return undefined;
  }
}

/**
 * The view of a run found in a list: an open run answers the query; a closed run's recorded result needs no
 * worker to replay its history (a run that closed without one, terminated say, is queried after all).
 */
export async function listedRunView(client: Client, runId: string, open: boolean): Promise<RunView> {
  return (!open && (await recordedView(client.workflow.getHandle(runId)))) || runView(client, runId);
}

/**
 * Whether an update found no running workflow to take it. Temporal answers NOT_FOUND both for a run
 * that never existed and for one that has closed ("workflow execution already completed", or "workflow
 * update was aborted by closing workflow" when it closes while the update waits), and the client turns
 * NOT_FOUND into WorkflowNotFoundError: the class is the check, never the message.
 */
export function isRunGone(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError;
}

/**
 * Sends a person's message (a decision, an answer) to the run as an update. The workflow's refusal becomes its
 * API error; when the run has already closed, `explainClosed` says what became of the item from the run's view.
 */
export async function updateRun<T>(client: Client, runId: string, send: () => Promise<T>, explainClosed: (view: RunView) => ApiError): Promise<T> {
  try {
    return await send();
  } catch (err) {
    const refused = decisionRefusal(err);
    if (refused) throw refused;
    if (!isRunGone(err)) throw err;
    throw explainClosed(await runView(client, runId));
  }
}

/**
 * A person's message with the API's proof over it: the API has verified who sent it, and the workflow records it
 * only with this signature (src/core/proof.ts), so nobody who merely reaches Temporal can speak for a person.
 */
export async function signed<M extends object>(config: Pick<AirlockConfig, 'dataDir' | 'identity'>, kind: ProofKind, runId: string, message: M): Promise<M & { proof: string }> {
  const proofs = await decisionProofs(config);
  return { ...message, proof: await proofs.sign(proofClaimsOf(kind, runId, message)) };
}
