// Human input a graph asks for with LangGraph's `interrupt()`: ids, and who may answer. Pure.
import { AirlockError, ErrorCode } from './errors.js';
import type { PendingInput, ProvideInputInput } from './types.js';

export function inputIdFor(runId: string, n: number): string {
  return `${runId}.i${n}`;
}

/** The run (= workflow) id an input id belongs to, or undefined if malformed. */
export function runIdOfInput(inputId: string): string | undefined {
  const m = /^(run-[a-z0-9]+)\.i(\d+)$/.exec(inputId);
  return m ? m[1] : undefined;
}

/** Whether this person may answer: the requester, whoever the run acts for, or a member of a group the agent names. */
export function mayAnswer(p: Pick<PendingInput, 'requester' | 'onBehalfOf' | 'groups'>, who: ProvideInputInput['answerer']): boolean {
  return who.subject === p.requester || (p.onBehalfOf !== undefined && who.subject === p.onBehalfOf) || p.groups.some((g) => who.groups.includes(g));
}

/** Refuses an answer that may not count: unknown id (404), not allowed (403), already answered (409). */
export function checkAnswer(p: PendingInput | undefined, d: ProvideInputInput): asserts p is PendingInput {
  if (!p) throw new AirlockError(ErrorCode.NotFound, `input ${d.inputId} not found in this run`);
  if (!mayAnswer(p, d.answerer))
    throw new AirlockError(ErrorCode.Forbidden, `only the requester${p.groups.length ? ` or a member of ${p.groups.map((g) => `"${g}"`).join(', ')}` : ''} may answer input ${p.inputId}`);
  if (p.status !== 'pending') throw new AirlockError(ErrorCode.AlreadyAnswered, `input ${p.inputId} was already ${p.status === 'answered' ? `answered by ${p.answeredBy}` : p.status}`);
}

/** Records an accepted answer. */
export function answer(p: PendingInput, d: ProvideInputInput, at: string): PendingInput {
  p.status = 'answered';
  p.answer = d.value;
  p.answeredBy = d.answerer.subject;
  p.answeredAt = at;
  return p;
}
