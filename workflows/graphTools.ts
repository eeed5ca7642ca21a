// `ctx.tools()`: LangChain tools built only from the pinned, sanitized definitions of the agent's approved
// servers. Invoking one runs the one control path (workflows/governance.ts): schema check, autonomy phase,
// Cedar decision, the durable approval wait, the MCP call as an activity with its idempotency key, and the
// audit records. A denial comes back as an error result the model can read; a rejected approval ends the
// run (or, with `onRejected: 'return'`, comes back as a result); a failed call ends the run.
import { ToolMessage } from '@langchain/core/messages';
import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { ErrorCode } from '../src/core/errors.js';
import type { AgentOptions, ToolFilter } from '../src/agent/define.js';
import type { AgentToolDef } from '../src/agent/types.js';
import type { JsonObject } from '../src/core/types.js';
import { stopRun } from './chatModel.js';
import type { Governance } from './governance.js';
import type { RunState } from './runState.js';

function matches(filter: ToolFilter | undefined, def: AgentToolDef): boolean {
  if (!filter) return true;
  if (typeof filter === 'function') return filter(def.name);
  return (!filter.servers || filter.servers.includes(def.server)) && (!filter.names || filter.names.includes(def.name));
}

export function governedTools(run: RunState, gov: Governance, defs: AgentToolDef[], options: AgentOptions, filter?: ToolFilter): StructuredToolInterface[] {
  const { agent } = run.input;
  return defs
    .filter((d) => matches(filter, d))
    .map((def) =>
      tool(
        async (args: JsonObject, config) => {
          const callId = (config as { toolCall?: { id?: string } } | undefined)?.toolCall?.id ?? '';
          const node = (config as { metadata?: { langgraph_node?: unknown } } | undefined)?.metadata?.langgraph_node;
          const refused = (content: string) => new ToolMessage({ status: 'error', content, tool_call_id: callId, name: def.name });
          if (run.steps.length >= agent.maxSteps) stopRun(run, { status: 'failed', type: ErrorCode.StepLimitExceeded, message: `the agent did not finish within ${agent.maxSteps} steps` });
          const step = run.addStep({ tool: `${def.server}.${def.tool}`, args, status: 'proposed', ...(typeof node === 'string' ? { node } : {}) });
          const decision = await gov.govern(step);
          if (decision.outcome === 'deny') return refused(`Denied by policy: ${decision.reason}. Do not retry this call as it is; choose another way or finish.`);
          if (decision.outcome === 'require_approval') {
            const a = await gov.awaitApproval(step);
            if (!a.approved) {
              if (options.onRejected !== 'return') stopRun(run, { status: 'rejected', result: { reason: a.reason, approvalId: a.approvalId } });
              return refused(`Not approved: ${a.reason} (approval ${a.approvalId}).`);
            }
          }
          const r = await gov.execute(step, gov.decisionFor(step, decision));
          if (!r.ok) stopRun(run, { status: 'failed', type: r.type, message: r.message });
          const content = typeof r.result.data === 'string' ? r.result.data : JSON.stringify(r.result.data);
          return new ToolMessage({ status: r.result.isError ? 'error' : 'success', content, tool_call_id: callId, name: def.name });
        },
        { name: def.name, description: def.description || `${def.tool} on ${def.server}`, schema: def.inputSchema },
      ),
    );
}
