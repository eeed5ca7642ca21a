import { ApplicationFailure } from '@temporalio/common';
import { Ajv as AjvDraft7, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createHash } from 'node:crypto';
import type { AgentSpec, Decision, JsonObject, Principal, ToolCall } from '../workflows/types.js';
import type { McpPool } from '../src/registry/pool.js';

export interface DecideInput {
  runId: string;
  step: number;
  agent: AgentSpec;
  principal: Principal;
  call: ToolCall;
}

/** Upper bound on the serialized args of one tool call. */
export const MAX_ARGS_BYTES = 64 * 1024;

/**
 * The control decision for one proposed tool call. Any error thrown here fails the activity,
 * and after its retries the run fails: the call never runs (fail closed).
 */
export function createControlActivities({ pool }: { pool: McpPool }) {
  // JSON Schema 2020-12 is MCP's default dialect; draft-07 schemas (as many SDKs emit) get a draft-07 validator.
  const ajv2020 = new Ajv2020({ allErrors: true, strict: false });
  const ajv7 = new AjvDraft7({ allErrors: true, strict: false });
  const ajvFor = (schema: object) => (/draft-07/.test(String((schema as { $schema?: unknown }).$schema ?? '')) ? ajv7 : ajv2020);
  const validators = new Map<string, ValidateFunction>();

  async function decide({ runId, step, agent, call }: DecideInput): Promise<Decision> {
    const name = `${call.server}.${call.tool}`;
    const deny = (reason: string): Decision => ({ outcome: 'deny', reason, write: true, idempotent: false, args: call.args });
    if (!agent.servers.includes(call.server)) return deny(`server "${call.server}" is not allowed for agent ${agent.name}`);
    if (!pool.has(call.server)) return deny(`server "${call.server}" is not in the registry`);
    const tool = (await pool.listTools(call.server)).find((t) => t.name === call.tool);
    if (!tool) return deny(`tool "${name}" does not exist on server "${call.server}"`);

    const write = tool.annotations?.readOnlyHint !== true;
    const idempotent = !write || tool.annotations?.idempotentHint === true;
    const props = (tool.inputSchema.properties ?? {}) as Record<string, unknown>;
    // The key is ours, never the model's: derived from the run and step, so retries and crashes reuse it.
    const args: JsonObject = 'idempotencyKey' in props ? { ...call.args, idempotencyKey: `${runId}/step-${step}` } : call.args;

    const size = Buffer.byteLength(JSON.stringify(args));
    if (size > MAX_ARGS_BYTES) return deny(`args are ${size} bytes; the limit is ${MAX_ARGS_BYTES}`);
    const validate = validatorFor(name, tool.inputSchema);
    if (!validate(args)) return deny(`args do not match the input schema of ${name}: ${ajv2020.errorsText(validate.errors)}`);

    const group = agent.approvalRules[name];
    if (group && write) return { outcome: 'require_approval', reason: `agent config requires "${group}" approval for ${name}`, requiredGroup: group, write, idempotent, args };
    return { outcome: 'allow', reason: write ? `no approval rule for ${name}` : `${name} is read-only`, write, idempotent, args };
  }

  function validatorFor(name: string, schema: object): ValidateFunction {
    const key = `${name}:${createHash('sha256').update(JSON.stringify(schema)).digest('hex')}`;
    let v = validators.get(key);
    if (!v) {
      try {
        v = ajvFor(schema).compile(schema);
      } catch (err) {
        throw ApplicationFailure.nonRetryable(`input schema of ${name} is invalid: ${(err as Error).message}`, 'InvalidToolSchema');
      }
      validators.set(key, v);
    }
    return v;
  }

  return { decide };
}
