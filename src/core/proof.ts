// Proof-carrying messages: a person's decision or answer counts only with the API's signature over it.
// The workflow cannot trust who a message says it is from (anyone with Temporal access can send an
// update), so the API, which verified the person's token, signs a digest of the exact message; the
// worker checks the signature before the message is recorded. These are the pure parts: what is signed.
import { digestOf } from './canonical.js';

/** The kinds of message a person sends to a run. */
export type ProofKind = 'decision' | 'input' | 'cancel';

/** The audience of a proof: the run workflow's worker (a proof is not a token for anything else). */
export const PROOF_AUDIENCE = 'airlock-run';

/** How long a proof is good for after it is made: long enough to reach the workflow, too short to collect and reuse. */
export const PROOF_TTL_SECONDS = 300;

/** What a proof binds: the kind of message, the run, and the digest of the message without its proof. */
export interface ProofClaims {
  kind: ProofKind;
  runId: string;
  digest: string;
}

/** The claims a message's proof must carry (the message's `proof` field itself is not signed). */
export function proofClaimsOf(kind: ProofKind, runId: string, message: { proof?: string }): ProofClaims {
  const { proof: _proof, ...signed } = message;
  return { kind, runId, digest: digestOf(signed) };
}

/** Why a proof's claims do not match the message they came with, or null when they do. */
export function claimsMismatch(got: Partial<ProofClaims>, want: ProofClaims): string | null {
  if (got.kind !== want.kind) return `the proof is for a ${got.kind ?? 'different'} message, not a ${want.kind}`;
  if (got.runId !== want.runId) return 'the proof is for another run';
  if (got.digest !== want.digest) return 'the message differs from the one the API signed';
  return null;
}
