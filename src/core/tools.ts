// What a tool does, from its (pinned) MCP annotations. Control, policy, retries and readiness all ask here.
// MCP's defaults are the cautious ones: a tool is a write unless it says it is read-only, and a write
// is destructive unless it says it is not.

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  idempotentHint?: boolean;
  destructiveHint?: boolean;
}

export interface ToolClass {
  readOnly: boolean;
  /** Changes state: not annotated read-only. */
  write: boolean;
  /** Safe to repeat: read-only, or annotated idempotent. */
  idempotent: boolean;
  /** A write that may destroy data (MCP's default for writes). */
  destructive: boolean;
}

export function classifyTool(annotations: ToolAnnotations | undefined | null): ToolClass {
  const a = annotations ?? {};
  const write = a.readOnlyHint !== true;
  return { readOnly: !write, write, idempotent: !write || a.idempotentHint === true, destructive: write && a.destructiveHint !== false };
}

/** The tool's input field that Airlock fills with a key derived from the run and step (never the model). */
export const IDEMPOTENCY_KEY_FIELD = 'idempotencyKey';

/** The idempotency key of a step: the same for every retry and replay of that step. */
export function idempotencyKey(runId: string, step: number): string {
  return `${runId}/step-${step}`;
}
