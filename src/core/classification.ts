// Data classification: the order of levels, what a run holds, and what may see it. Routing (model clearance)
// and policy (a tool's classification) use these rules.

export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** What a server or an agent's input is when its config says nothing. */
export const DEFAULT_CLASSIFICATION: Classification = 'internal';

export const rank = (c: Classification): number => CLASSIFICATIONS.indexOf(c);

/** The highest level among those given (`public` for none). */
export const maxClassification = (cs: readonly Classification[]): Classification => cs.reduce<Classification>((a, b) => (rank(b) > rank(a) ? b : a), 'public');

/** Whether something cleared for `clearance` may see data classified `data`. */
export const clearedFor = (clearance: Classification, data: Classification): boolean => rank(clearance) >= rank(data);
