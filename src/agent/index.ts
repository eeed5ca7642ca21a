// The agent SDK, imported by agent authors as `airlock/agent`. Runs in the workflow sandbox.
export { defineAgent, isAgentDefinition } from './define.js';
export type { AgentContext, AgentDefinition, AgentGraph, AgentOptions, ModelOptions, ToolFilter } from './define.js';
export { TOOL_NAME_SEPARATOR } from './types.js';
export type { AgentToolDef } from './types.js';
