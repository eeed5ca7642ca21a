// What crosses the boundary between an agent's graph (in the workflow sandbox) and Airlock's activities.
// Types only: the agent SDK (src/agent/), the workflow (workflows/) and the activities share them.
import type { StoredMessage } from '@langchain/core/messages';
import type { AuditEventInput } from '../audit/types.js';
import type { JsonObject, ModelUse, RunIdentity } from '../core/types.js';

/** Separates server and tool in a LangChain tool name: `billing__issue_refund` (dots are not allowed in OpenAI function names). */
export const TOOL_NAME_SEPARATOR = '__';

/** A governed tool as the graph sees it: a pinned, sanitized definition of an approved server's tool. */
export interface AgentToolDef {
  /** `server__tool`. */
  name: string;
  server: string;
  tool: string;
  description: string;
  /** The pinned input schema, minus the fields the control layer fills (the idempotency key). */
  inputSchema: Record<string, unknown>;
  readOnly: boolean;
}

/** A tool offered to the model, in OpenAI's function format (what LangChain's `bindTools` produces). */
export interface ChatToolDef {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export interface ChatInput {
  runId: string;
  agent: string;
  identity?: RunIdentity;
  /** The run's queued audit events, written before the model is called. */
  audit?: AuditEventInput[];
  /** The run's validated input (the embedded planner fills its playbook's templates from it). */
  input?: JsonObject;
  /** The conversation so far, as LangChain stores messages (`mapChatMessagesToStoredMessages`). */
  messages: StoredMessage[];
  /** Tools the graph bound to the model (`bindTools`). */
  tools: ChatToolDef[];
  /** The graph node that asked (for the audit trail and the Temporal UI). */
  node?: string;
  /** Models that failed for this call: the route's next model serves it. */
  exclude?: string[];
  /** What was wrong with the previous answer (a bounded repair). */
  repair?: string;
}

export interface ChatToolCall {
  id: string;
  /** `server__tool`. */
  name: string;
  args: JsonObject;
}

export interface ChatOutput {
  message: { content: string; toolCalls: ChatToolCall[] };
  model: ModelUse;
}
