// A person's message (a vote, an edit, an answer) counts only with the API's proof over it, checked by
// the worker before the workflow records it (src/core/proof.ts). Anyone else who can reach Temporal —
// the CLI, the UI's update action — is refused, and the approval or question stays pending.
import { patched, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { ErrorCode } from '../src/core/errors.js';
import { proofClaimsOf, type ProofKind } from '../src/core/proof.js';
import { failure } from './failure.js';
import { VERIFY_PROOF_LOCAL } from './presets.js';

const { verifyProof } = proxyLocalActivities<Activities>(VERIFY_PROOF_LOCAL);

/** Histories recorded before proofs took votes without one; they replay as they ran. */
export const PROOF_PATCH = 'airlock-message-proof';

/** The validator's part (no commands allowed there): a message without any proof is refused at once. */
export function requireProof(message: { proof?: string }): void {
  if (typeof message.proof !== 'string' || !message.proof)
    throw failure(ErrorCode.Forbidden, 'this message carries no proof from the Airlock API: decisions and answers are sent through the API, never straight to Temporal');
}

/**
 * An update handler that runs only once the message's proof checks out. On a history recorded before proofs it
 * runs the handler at once (no await), exactly as it ran then.
 */
export function proven<M extends { proof?: string }, R>(kind: ProofKind, runId: string, handle: (message: M) => R | Promise<R>): (message: M) => Promise<R> {
  return async (message) => {
    const check = checkProof(kind, runId, message);
    if (check) await check;
    return handle(message);
  };
}

/**
 * The handler's part: the proof must be the API's signature over exactly this message, for this run. Null (no
 * await at all, so the handler runs as it did) when replaying a history recorded before proofs.
 */
export function checkProof(kind: ProofKind, runId: string, message: { proof?: string }): Promise<void> | null {
  if (!patched(PROOF_PATCH)) return null;
  requireProof(message);
  return verifyProof({ proof: message.proof!, claims: proofClaimsOf(kind, runId, message) }).then(({ refused }) => {
    if (refused) throw failure(ErrorCode.Forbidden, `refused: ${refused}`);
  });
}
