// What the API reads from a run's workflow.
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { getRunQuery } from '../../workflows/definitions.js';
import type { AirlockConfig } from '../config/load.js';
import { proofClaimsOf, type ProofKind } from '../core/proof.js';
import type { RunView } from '../core/types.js';
import { decisionProofs } from '../identity/decisionProof.js';
import { decisionRefusal, notFound, type ApiError } from './errors.js';

/** The run's current view: queried from the workflow, or for a closed run that cannot be replayed, its recorded result. */
export async function runView(client: Client, runId: string): Promise<RunView> {
  const handle = client.workflow.getHandle(runId);
  try {
    return await handle.query(getRunQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(`run ${runId}`);
    // A closed run whose history cannot be replayed (no worker): fall back to its recorded result.
    try {
      return await handle.result();
    } catch (resultErr) {
      if (resultErr instanceof WorkflowFailedError && resultErr.cause instanceof ApplicationFailure) {
        const view = resultErr.cause.details?.[0] as RunView | undefined;
        if (view) return view;
      }
      throw err;
    }
  }
}

/**
 * The view of a run found in a list: an open run answers the query; a closed run's recorded result needs no
 * worker to replay its history (a run that closed without one, terminated say, is queried after all).
 */
export async function listedRunView(client: Client, runId: string, open: boolean): Promise<RunView> {
  if (open) return runView(client, runId);
  try {
    return await client.workflow.getHandle(runId).result();
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
      const view = err.cause.details?.[0] as RunView | undefined;
      if (view) return view;
    }
    return runView(client, runId);
  }
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
