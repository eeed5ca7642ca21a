// The checks of the one control path, in the order the control activity makes them. The control layer
// tags each denial with its step (and so with the stage the audit trail records); the readiness report
// lists the same steps, so what operators are told is validated is what the code checks.

/** Where the control path lives. */
export const CONTROL_MODULE = 'activities/control.ts';

/** `validation`: admission and validation of the call (audited as an invalid call); `policy`: the autonomy phase and Cedar. */
export type ControlStage = 'validation' | 'policy';

export const CONTROL_STEPS = [
  { step: 'server-allowed', stage: 'validation', check: 'server allowed for the agent' },
  { step: 'server-registered', stage: 'validation', check: 'server approved and registered' },
  { step: 'tool-allowed', stage: 'validation', check: 'tool pinned and allowed by the catalog' },
  { step: 'args-size', stage: 'validation', check: 'args size bound' },
  { step: 'args-schema', stage: 'validation', check: 'args match the pinned input schema (ajv)' },
  { step: 'model-clearance', stage: 'policy', check: 'the planning model is cleared for what the result would bring (before the call)' },
  { step: 'autonomy-phase', stage: 'policy', check: 'autonomy phase' },
  { step: 'policy', stage: 'policy', check: 'Cedar policy decision' },
] as const satisfies readonly { step: string; stage: ControlStage; check: string }[];

export type ControlStep = (typeof CONTROL_STEPS)[number]['step'];

/** The stage a step belongs to. */
export function stageOf(step: ControlStep): ControlStage {
  return CONTROL_STEPS.find((s) => s.step === step)!.stage;
}
