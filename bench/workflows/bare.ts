// Baselines: the same MCP tool calls as plain Temporal activities, with no plan, policy or audit.
import { condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { BareActivities } from '../bareWorker.js';

const { mcpCall } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

export const approveUpdate = defineUpdate<void>('approve');

/** N sequential tool calls. */
export async function bareStepsWorkflow(calls: Array<{ server: string; tool: string; args: Record<string, unknown> }>): Promise<number> {
  for (const c of calls) await mcpCall(c);
  return calls.length;
}

/** Waits for an update, then makes one tool call (the approval baseline). */
export async function bareApprovalWorkflow(call: { server: string; tool: string; args: Record<string, unknown> }): Promise<void> {
  let approved = false;
  setHandler(approveUpdate, () => {
    approved = true;
  });
  await condition(() => approved);
  await mcpCall(call);
}
