// What every readiness question reads: the configuration, the loaded policy engine (its facts, never the
// files), the registry pins and runtime status, and what follows from them by the core's rules: each
// server's effective status, each pinned tool's class, the tools an agent can reach, and which policies
// cover a tool for an agent.
import type { AirlockConfig } from '../config/load.js';
import { catalogAllows, effectiveStatus, type ServerStatus } from '../core/registry.js';
import { classifyTool, type ToolAnnotations } from '../core/tools.js';
import { PolicyEngine } from '../policy/engine.js';
import { isHold } from '../policy/facts.js';
import { LockStore, type LockFile } from '../registry/lock.js';
import { registryStatusFile, StatusStore, type StatusEntry } from '../registry/status.js';
import { Locator } from './locate.js';
import type { GapCode, ReadinessDeps, ReadinessGap, ReadinessLink, Severity, StatusFile } from './types.js';

export interface ToolView {
  action: string;
  server: string;
  tool: string;
  write: boolean;
  destructive: boolean;
}

export interface ServerView {
  id: string;
  status: ServerStatus;
  statusChange: StatusEntry | null;
  pins: LockFile['servers'][string] | null;
  /** Pinned tools the catalog allows; null when the tools are unknown (not pinned, or lockfile broken). */
  tools: ToolView[] | null;
}

/** The policies that can apply to one tool for one agent. */
export interface Coverage {
  /** The schema declares the tool (else every call is denied). */
  declared: boolean;
  /** Permits without @approval. */
  permits: string[];
  /** Permits with @approval. */
  approvals: string[];
  /** Holds: forbids with @approval (the call runs with that approval when their conditions match; they permit nothing). */
  holds: string[];
  /** Forbids without @approval scoped to some actions (a forbid on every action is a guardrail, not coverage). */
  forbids: string[];
}

export interface Model {
  config: AirlockConfig;
  /** Links into the config file, the lockfile and the status file. */
  cfg: Locator;
  lockLoc: Locator;
  statusLoc: Locator;
  engine: PolicyEngine | Error;
  lock: LockFile | Error;
  status: StatusFile | Error;
  servers: Map<string, ServerView>;
  /** The tools an agent can actually reach: pinned, allowed by the catalog, on servers that are approved. */
  agentTools(agent: string): ToolView[];
  /** Which policies cover `action` for `agent`; null when the policy set did not load. */
  coverage(agent: string, action: string): Coverage | null;
  /** Where a loaded policy is (its @id line). */
  policyLink(id: string): ReadinessLink;
}

export function buildModel(config: AirlockConfig, deps: ReadinessDeps): Model {
  const statusFile = registryStatusFile(config);
  const engine = deps.policy ?? attempt(() => PolicyEngine.load(config.policy.dir));
  const lock = deps.lock ?? attempt(() => new LockStore(config.registry.lockFile).current());
  const status = deps.status ?? attempt(() => new StatusStore(statusFile).current());

  const servers = new Map<string, ServerView>();
  for (const [id, s] of Object.entries(config.servers)) {
    // As the API reports it; an unreadable status file refuses every server (its own gap).
    const change = status instanceof Error ? null : (status.servers[id] ?? null);
    const pins = lock instanceof Error ? null : (lock.servers[id] ?? null);
    const tools = pins
      ? Object.entries(pins.tools)
          .filter(([name]) => catalogAllows(s.tools, name))
          .map(([name, t]) => {
            const cls = classifyTool(t.definition.annotations as ToolAnnotations | undefined);
            return { action: `${id}.${name}`, server: id, tool: name, write: cls.write, destructive: cls.destructive };
          })
      : null;
    servers.set(id, { id, status: effectiveStatus(s.status, change), statusChange: change, pins, tools });
  }

  return {
    config,
    cfg: new Locator(config.configFile),
    lockLoc: new Locator(config.registry.lockFile),
    statusLoc: new Locator(statusFile),
    engine,
    lock,
    status,
    servers,
    agentTools: (name) => config.agents[name]!.servers.flatMap((s) => (servers.get(s)?.status === 'approved' ? (servers.get(s)!.tools ?? []) : [])),
    coverage: (agent, action) => {
      if (engine instanceof Error) return null;
      const applies = engine.policies.filter((p) => p.actions.includes(action) && (!p.agents || p.agents.includes(agent)));
      return {
        declared: engine.toolActions.has(action),
        permits: applies.filter((p) => p.effect === 'permit' && !p.approval).map((p) => p.id),
        approvals: applies.filter((p) => p.effect === 'permit' && p.approval).map((p) => p.id),
        holds: applies.filter(isHold).map((p) => p.id),
        forbids: applies.filter((p) => p.effect === 'forbid' && !p.approval && !p.anyAction).map((p) => p.id),
      };
    },
    policyLink: (id) => {
      const p = engine instanceof Error ? undefined : engine.policy(id);
      return p ? { file: p.file, line: p.line, path: p.id } : { file: config.policy.dir, path: id };
    },
  };
}

function attempt<T>(fn: () => T): T | Error {
  try {
    return fn();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export const gap = (severity: Severity, code: GapCode, message: string, link: ReadinessLink): ReadinessGap => ({ severity, code, message, link });
export const list = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** Every phase but read-only may call write tools. */
export const executes = (phase: string) => phase !== 'read-only';
