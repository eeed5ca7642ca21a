// Checks the API's proof on a person's message before the workflow records it (src/core/proof.ts).
// A local activity: its answer is recorded in history, so replay never needs the key.
import type { ProofClaims } from '../src/core/proof.js';
import { decisionProofs } from '../src/identity/decisionProof.js';
import type { ActivityDeps } from './index.js';

export interface VerifyProofInput {
  proof: string;
  claims: ProofClaims;
}

export function createProofActivities(deps: Pick<ActivityDeps, 'config'>) {
  return {
    /** Null when the proof is the API's signature over exactly this message; otherwise why it is refused. */
    async verifyProof({ proof, claims }: VerifyProofInput): Promise<{ refused: string | null }> {
      const proofs = await decisionProofs(deps.config);
      return { refused: await proofs.check(proof, claims) };
    },
  };
}
