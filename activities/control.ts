import { Ajv as AjvDraft7, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { approvalFor, effectiveReason } from '../src/core/approvals.js';
import { callDigest, digestOf } from '../src/core/canonical.js';
import { DEFAULT_CLASSIFICATION, rank } from '../src/core/classification.js';
import { describeLabels, initialLabels, labelsContext, raiseLabels, trustOf, type RunLabels } from '../src/core/labels.js';
import { stageOf, type ControlStage, type ControlStep } from '../src/core/controlSteps.js';
import { ErrorCode } from '../src/core/errors.js';
import { classifyTool, IDEMPOTENCY_KEY_FIELD, idempotencyKey } from '../src/core/tools.js';
import type { AirlockConfig } from '../src/config/load.js';
import type { PolicySource } from '../src/policy/source.js';
import { RegistryError, type McpPool } from '../src/registry/pool.js';
import { route, RoutingError } from '../src/models/router.js';
import type { AuditEventInput } from '../src/audit/types.js';
import type { AgentSpec, Decision, JsonObject, RunIdentity, ToolCall } from '../src/core/types.js';
import { failure } from '../workflows/failure.js';
import type { AuditWriter } from './audit.js';

export interface DecideInput {
  runId: string;
  step: number;
  agent: AgentSpec;
  identity: RunIdentity;
  call: ToolCall;
  /** When an approver's edit is decided: the args as first proposed (policies see them as `context.edit`). */
  editOf?: JsonObject;
  /** What the run learned earlier, as its agent declares (`agents.<name>.facts`): policies see it as `context.facts`. */
  facts?: JsonObject;
  /** What the run has touched so far (src/core/labels.ts): policies see it as `context.labels`. Absent: the input's labels. */
  labels?: RunLabels;
  /** The run's queued audit events, written with this decision's own. */
  audit?: AuditEventInput[];
}

/** Where a deny came from: admission and validation of the call, or the autonomy phase and policy. */
type Stage = ControlStage;

/** Upper bound on the serialized args of one tool call. */
export const MAX_ARGS_BYTES = 64 * 1024;

export interface ControlDeps {
  config: AirlockConfig;
  pool: McpPool;
  policies: PolicySource;
  writer: AuditWriter;
}

/**
 * The control decision for one proposed tool call, in order: the agent may use the server, the
 * server is registered, the tool exists, the args fit the size bound and the tool's input schema,
 * the autonomy phase permits it, and the Cedar policy set decides. Every "no" is a deny with a reason.
 * A policy engine that cannot answer is a deny too (fail closed); any error thrown here fails the
 * activity, and after its retries the run fails: the call never runs.
 */
export function createControlActivities({ config, pool, policies, writer }: ControlDeps) {
  // JSON Schema 2020-12 is MCP's default dialect; draft-07 schemas (as many SDKs emit) get a draft-07 validator.
  const ajv2020 = new Ajv2020({ allErrors: true, strict: false });
  const ajv7 = new AjvDraft7({ allErrors: true, strict: false });
  const ajvFor = (schema: object) => (/draft-07/.test(String((schema as { $schema?: unknown }).$schema ?? '')) ? ajv7 : ajv2020);
  const validators = new Map<string, ValidateFunction>();

  /**
   * Decides, then records the proposal, the validation result and the decision (with the run's queued
   * events) before answering: if the audit store refuses, the activity fails and the call never runs.
   */
  async function decide(input: DecideInput): Promise<Decision> {
    const { runId, step, identity, call } = input;
    const d = await evaluate(input);
    const who = { principal: identity.subject, ...(identity.onBehalfOf ? { onBehalfOf: identity.onBehalfOf } : {}), agent: input.agent.name, server: call.server, tool: call.tool };
    const at = new Date().toISOString();
    const invalid = d.outcome === 'deny' && d.stage === 'validation';
    await writer.write([
      ...(input.audit ?? []),
      ...writer.own(runId, [
        { key: 'proposed', type: 'tool.proposed', at, ...who, data: { step, args: call.args } },
        { key: 'validated', type: 'tool.validated', at, ...who, outcome: invalid ? 'invalid' : 'valid', data: { step, ...(invalid ? { reason: d.reason } : {}) } },
        {
          key: 'decided',
          type: 'policy.decided',
          at,
          ...who,
          outcome: d.outcome,
          data: {
            step,
            reason: d.reason,
            policyIds: d.policyIds,
            policyVersion: d.policyVersion,
            phase: input.agent.phase,
            digest: d.digest,
            args: d.args,
            // What policy knew besides the call: the decision can be checked again from the record.
            ...(input.facts && Object.keys(input.facts).length > 0 ? { facts: input.facts } : {}),
            labels: { ...labelsOf(input) },
            ...(d.approval ? { approval: { ...d.approval } } : {}),
          },
        },
      ]),
    ]);
    const { stage: _stage, ...decision } = d;
    return decision;
  }

  async function evaluate(input: DecideInput): Promise<Decision & { stage: Stage }> {
    const { runId, step, agent, identity, call, editOf, facts } = input;
    const name = `${call.server}.${call.tool}`;
    const labels = labelsOf(input);
    const server = config.servers[call.server];
    // What the call's result brings into the run: the workflow raises the run's labels with it once the result is seen.
    const source = { classification: server?.classification ?? DEFAULT_CLASSIFICATION, trust: trustOf(server, call.tool) };
    const engine = policies.current();
    const policyVersion = engine instanceof Error ? 'unavailable' : engine.version;
    const deny = (reason: string, step: ControlStep): Decision & { stage: Stage } => ({
      stage: stageOf(step),
      outcome: 'deny',
      reason,
      policyIds: [],
      policyVersion,
      write: true,
      idempotent: false,
      args: call.args,
      digest: callDigest(call.server, call.tool, call.args, policyVersion),
      source,
    });
    if (!agent.servers.includes(call.server)) return deny(`server "${call.server}" is not allowed for agent ${agent.name}`, 'server-allowed');
    if (!pool.has(call.server)) return deny(`server "${call.server}" is not in the registry`, 'server-registered');
    let tools;
    try {
      tools = await pool.listTools(call.server);
    } catch (err) {
      if (err instanceof RegistryError) return deny(err.message, 'server-registered');
      throw err;
    }
    const tool = tools.find((t) => t.name === call.tool);
    if (!tool) return deny(`tool "${name}" does not exist on server "${call.server}"`, 'tool-allowed');
    if (!pool.catalogAllows(call.server, call.tool)) return deny(`tool "${name}" is not among the tools the catalog allows from "${call.server}"`, 'tool-allowed');

    const cls = classifyTool(tool.annotations);
    const { write, idempotent } = cls;
    const props = (tool.inputSchema.properties ?? {}) as Record<string, unknown>;
    // The key is ours, never the model's: derived from the run and step, so retries and crashes reuse it.
    const args: JsonObject = IDEMPOTENCY_KEY_FIELD in props ? { ...call.args, [IDEMPOTENCY_KEY_FIELD]: idempotencyKey(runId, step) } : call.args;

    const size = Buffer.byteLength(JSON.stringify(args));
    if (size > MAX_ARGS_BYTES) return deny(`args are ${size} bytes; the limit is ${MAX_ARGS_BYTES}`, 'args-size');
    const validate = validatorFor(name, tool.inputSchema);
    if (!validate(args)) return deny(`args do not match the input schema of ${name}: ${ajv2020.errorsText(validate.errors)}`, 'args-schema');

    // Model clearance comes before the call: a result the run's planning model may not be shown is never fetched.
    const clearance = clearanceProblem(agent.name, labels, { server: call.server, tool: call.tool, ...source });
    if (clearance) return deny(clearance, 'model-clearance');
    if (write && agent.phase === 'read-only') return deny(`agent ${agent.name} is in the read-only phase: ${name} changes state`, 'autonomy-phase');
    if (engine instanceof Error) return deny(`policy engine unavailable: ${engine.message}`, 'policy');

    const p = engine.evaluate({
      principal: { kind: identity.kind === 'user' ? 'user' : 'service', id: identity.subject, groups: identity.groups, ...(identity.onBehalfOf ? { onBehalfOf: identity.onBehalfOf } : {}) },
      agent: agent.name,
      phase: agent.phase,
      server: call.server,
      tool: call.tool,
      toolInfo: {
        readOnly: cls.readOnly,
        destructive: cls.destructive,
        idempotent,
        classification: source.classification,
        level: rank(source.classification),
        trust: source.trust,
      },
      args,
      labels: labelsContext(labels),
      ...(editOf ? { edit: editOf } : {}),
      ...(facts ? { facts } : {}),
      runId,
      now: new Date().toISOString(),
    });
    const base = {
      stage: stageOf('policy'),
      policyIds: p.policyIds,
      policyVersion: p.policyVersion,
      write,
      idempotent,
      args,
      digest: callDigest(call.server, call.tool, args, p.policyVersion),
      source,
    };
    if (p.outcome === 'deny') return { ...base, outcome: 'deny', reason: p.reason };
    const approval = approvalFor(p, { write, phase: agent.phase, defaults: agent.approvalDefaults });
    if (approval && p.outcome === 'require_approval') return { ...base, outcome: 'require_approval', reason: effectiveReason(p.reason, approval), approval };
    if (approval) return { ...base, outcome: 'require_approval', reason: `agent ${agent.name} is in the gated phase: every write needs approval (policy would allow: ${p.reason})`, approval };
    return { ...base, outcome: 'allow', reason: p.reason };
  }

  /** The run's labels as the decision sees them: what the workflow passed, else what its input brings. */
  function labelsOf(input: DecideInput): RunLabels {
    return input.labels ?? initialLabels(input.agent.inputLabels);
  }

  /**
   * Why the call may not run because the model that plans the run's next step could not be shown its result
   * (routing by the classification the run would hold after it); undefined when it may. Only a raise matters:
   * what the run already holds, its model already sees.
   */
  function clearanceProblem(agent: string, labels: RunLabels, seen: Parameters<typeof raiseLabels>[1]): string | undefined {
    const after = raiseLabels(labels, seen);
    if (rank(after.classification) <= rank(labels.classification)) return undefined;
    try {
      route(config, { task: 'plan', agent, classification: after.classification });
      return undefined;
    } catch (err) {
      if (!(err instanceof RoutingError) || err.kind !== 'denied') throw err;
      return `the result of ${seen.server}.${seen.tool} (${seen.classification}) could not be shown to the run's planning model, so the call is not made: ${err.message} (run ${describeLabels(labels)})`;
    }
  }

  function validatorFor(name: string, schema: object): ValidateFunction {
    const key = `${name}:${digestOf(schema)}`;
    let v = validators.get(key);
    if (!v) {
      try {
        v = ajvFor(schema).compile(schema);
      } catch (err) {
        throw failure(ErrorCode.InvalidToolSchema, `input schema of ${name} is invalid: ${(err as Error).message}`);
      }
      validators.set(key, v);
    }
    return v;
  }

  return { decide };
}
