// The agents this worker's bundle carries. The bundle's generated entry (src/worker/bundle.ts) imports each configured
// `agents.<name>.graph` module and registers its default export here, once per run, before the workflow function runs.
// Deterministic and without I/O: a name → definition table.
import type { AgentDefinition } from '../src/agent/define.js';

const agents = new Map<string, AgentDefinition>();

/** Called by the generated bundle entry; the worker checked the module before bundling it (src/worker/agents.ts). */
export function registerAgent(name: string, def: AgentDefinition): void {
  if (!def || def.kind !== 'airlock.agent' || typeof def.build !== 'function') throw new TypeError(`agent "${name}": the module does not default-export defineAgent(...)`);
  agents.set(name, def);
}

/** The definition of the agent configured as `agents.<name>.graph`, or undefined (no such agent, or a YAML playbook agent). */
export function agentDefinition(name: string): AgentDefinition | undefined {
  return agents.get(name);
}

/** Names of the registered graph agents, sorted. */
export function registeredAgents(): string[] {
  return [...agents.keys()].sort();
}
