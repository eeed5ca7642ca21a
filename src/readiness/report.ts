/*
 * Governance readiness: the seven questions enterprises ask before scaling agents, answered from the
 * live configuration, each answer linked to the config that makes it true, with the gaps flagged.
 *
 *   1 execution     which agents (workflows) are approved for execution, which are advisory only
 *   2 systems       which systems are exposed through MCP, and who certified each server
 *   3 identity      what identity each agent runs under, and how its authorization is scoped
 *   4 approvals     which actions require human approval
 *   5 controls      where tool calls are validated, logged and monitored
 *   6 independence  whether models, workflows and connectors can each change independently
 *   7 dataflow      which agents can combine the Rule of Two's three legs (untrusted input, sensitive data, acting
 *                   tools), and which policies (or phase) stop them
 *
 * Inputs: the loaded config, the policy set (PolicyEngine or its load error), the registry lockfile
 * (pins: who certified what) and the runtime status file (quarantine / retire / re-approve). Callers
 * that hold live stores pass them in `deps`; otherwise they are read from disk. Nothing here throws
 * for a broken policy set, lockfile or status file: each becomes an error gap.
 *
 * Every answer is computed (model.ts): which tools are writes and a server's effective status come from
 * the core's rules (classifyTool, effectiveStatus, catalogAllows); which tools and agents a policy applies
 * to comes from the facts the engine computed at load (PolicyEngine.policies), never from reading the
 * policy files again; the control path's steps come from core/controlSteps.ts.
 *
 * Links: `{ file, line?, path }`. In YAML/JSON files `path` is the dotted key path and `line` the line of
 * that key (or of its nearest present ancestor, where a default applies: locate.ts); in Cedar files
 * `path` is the policy id and `line` the line of its `@id` annotation.
 */
import type { AirlockConfig } from '../config/load.js';
import { buildModel } from './model.js';
import { approvals } from './questions/approvals.js';
import { controls } from './questions/controls.js';
import { dataflow } from './questions/dataflow.js';
import { execution } from './questions/execution.js';
import { identity } from './questions/identity.js';
import { independence } from './questions/independence.js';
import { systems } from './questions/systems.js';
import type { ReadinessDeps, ReadinessReport } from './types.js';

export { QUESTIONS } from './types.js';
export type { GapCode, QuestionId, ReadinessAnswer, ReadinessDeps, ReadinessGap, ReadinessLink, ReadinessReport, Severity } from './types.js';

export function buildReadinessReport(config: AirlockConfig, deps: ReadinessDeps = {}): ReadinessReport {
  const m = buildModel(config, deps);
  const questions = [execution(m), systems(m), identity(m), approvals(m), controls(m), independence(m), dataflow(m)];
  const gaps = questions.flatMap((q) => q.gaps).sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return {
    generatedAt: (deps.now ?? new Date()).toISOString(),
    configFile: config.configFile,
    policyVersion: m.engine instanceof Error ? null : m.engine.version,
    questions,
    gaps,
    ok: !gaps.some((g) => g.severity === 'error'),
  };
}
