// Runs: requesters start them (an Idempotency-Key binds to its first body; run ids are never reused); the
// requester and operators read and cancel them.
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Router } from 'express';
import { randomBytes } from 'node:crypto';
import { agentRunWorkflow } from '../../../workflows/agentRun.js';
import { cancelRunUpdate, provideInputUpdate, SA } from '../../../workflows/definitions.js';
import { mayReadRun, seesEverything } from '../../core/access.js';
import { digestOf } from '../../core/canonical.js';
import { ErrorCode } from '../../core/errors.js';
import { isOpen, runIdForKey, runIdFromBytes } from '../../core/run.js';
import type { Principal, RunIdentity, RunInput, RunView } from '../../core/types.js';
import { agentSpec } from '../../config/load.js';
import { principalOf, requireRole } from '../auth.js';
import { logOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { RunsQuerySchema } from '../listSchemas.js';
import { ApiError, forbidden } from '../errors.js';
import type { PendingInputBody, RunViewBody } from '../openapi/responses.js';
import { requestHashOf } from '../idempotency.js';
import { IdempotencyKeySchema, InputBodySchema, RunIdParamsSchema, StartRunBodySchema } from '../schemas.js';
import { listRuns } from '../visibility.js';
import { runView, signed, updateRun } from '../workflows.js';

/** The requester cancels their own runs; operators and admins any. (Who reads a run: core/access.ts mayReadRun.) */
const mayCancel = (p: Principal, view: RunView) => view.requester === p.subject || seesEverything(p);

export function runRoutes(deps: Pick<ApiDeps, 'config' | 'client' | 'directory' | 'idempotency' | 'revocations'>): Router {
  const { config, client, directory, idempotency } = deps;
  const { taskQueue } = config.temporal;
  // Each agent's input schema, compiled once.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const inputValidators = new Map(Object.entries(config.agents).map(([name, a]) => [name, ajv.compile(a.inputSchema)]));
  const r = Router();

  r.post('/runs', async (req, res) => {
    const p = requireRole(req, ['requester'], 'starting runs needs the requester role');
    const body = StartRunBodySchema.parse(req.body);
    // The map, not `config.agents[...]`, answers: an agent named like an Object.prototype key is unknown too.
    const validate = inputValidators.get(body.agent);
    if (!validate) throw new ApiError(ErrorCode.UnknownAgent, `unknown agent "${body.agent}" (known: ${Object.keys(config.agents).join(', ')})`);
    if (!validate(body.input)) throw new ApiError(ErrorCode.InvalidInput, `input does not match agent ${body.agent}: ${ajv.errorsText(validate.errors)}`);
    if (body.onBehalfOf !== undefined) {
      if (p.kind !== 'service') throw forbidden('only service accounts may act on behalf of another user');
      if (!directory.knows(body.onBehalfOf)) throw forbidden(`onBehalfOf: "${body.onBehalfOf}" is not a subject the identity provider knows (identity.directory)`);
    }

    const rawKey = req.header('idempotency-key');
    const key = rawKey === undefined ? undefined : idempotencyKey(rawKey);
    const requestHash = requestHashOf(body);
    const runId = key ? runIdForKey(p.subject, key) : runIdFromBytes(randomBytes(10));
    // The key is bound to the first body it came with, for good: another body under it is refused.
    const claim = key ? await idempotency.claim(runId, p.subject, requestHash) : undefined;
    if (claim && claim.requestHash !== requestHash) throw keyReused();
    const spec = agentSpec(config, body.agent);
    const identity: RunIdentity = { kind: p.kind, subject: p.subject, groups: p.groups, ...(body.onBehalfOf ? { onBehalfOf: body.onBehalfOf } : {}) };
    const run = { runId, args: { runId, agent: spec, input: body.input, principal: p, identity, inputDigest: digestOf(body.input) }, agent: body.agent, requester: p.subject, requestHash };
    // A key whose run has started is never started again, even after Temporal has deleted the closed run.
    const existing = claim?.started ? await existingRun(client, runId) : await startRun(client, taskQueue, run);
    if (existing) {
      // A retry: the run this key started, in flight or ended; never a second run.
      if (!key) throw new ApiError(ErrorCode.InternalError, 'run id collision; retry');
      if (existing.requestHash !== undefined && existing.requestHash !== requestHash) throw keyReused();
      logOf(req).info({ runId, agent: body.agent }, 'run start repeated with the same Idempotency-Key');
      res.status(200).location(`/v1/runs/${runId}`).setHeader('idempotent-replayed', 'true');
      res.json({ runId, status: existing.status });
      return;
    }
    if (key) await idempotency.started(runId);
    logOf(req).info({ runId, agent: body.agent }, 'run started');
    res.status(202).location(`/v1/runs/${runId}`).json({ runId, status: 'running' });
  });

  // Runs from Temporal visibility, in its order, by filters and pages; requesters list only their own (as mayReadRun).
  r.get('/runs', async (req, res) => {
    res.json(await listRuns(client, RunsQuerySchema.parse(req.query), principalOf(req)));
  });

  r.get('/runs/:runId', async (req, res) => {
    const { runId } = RunIdParamsSchema.parse(req.params);
    const view = await runView(client, runId);
    if (!mayReadRun(principalOf(req), view)) throw forbidden('this run is not yours');
    res.json(view satisfies RunViewBody);
  });

  r.post('/runs/:runId/cancel', async (req, res) => {
    const { runId } = RunIdParamsSchema.parse(req.params);
    const view = await runView(client, runId);
    if (!mayCancel(principalOf(req), view)) throw forbidden('only the requester or an operator can cancel a run');
    if (!isOpen(view.status)) throw new ApiError(ErrorCode.RunClosed, `run is already ${view.status}`);
    // The canceller is the token's subject, with the API's proof: the run records who cancelled it.
    const p = principalOf(req);
    const message = await signed(deps.config, 'cancel', runId, { by: { subject: p.subject, groups: p.groups } });
    await updateRun(
      client,
      runId,
      () => client.workflow.getHandle(runId).executeUpdate(cancelRunUpdate, { args: [message] }),
      (closed) => new ApiError(ErrorCode.RunClosed, `run is already ${closed.status}`),
    );
    // The run has recorded who asked; now the workflow itself is cancelled, so Temporal shows it cancelled too.
    await client.workflow.getHandle(runId).cancel();
    res.status(202).json({ runId, status: 'cancelling' });
  });

  // The answer to a question the agent's graph asked (interrupt): the requester, or a member of a group the agent names.
  r.post('/runs/:runId/input', async (req, res) => {
    const { runId } = RunIdParamsSchema.parse(req.params);
    const body = InputBodySchema.parse(req.body);
    const p = principalOf(req);
    // The answerer is the token's subject, never a field of the body; the API's proof says so to the workflow.
    const message = await signed(deps.config, 'input', runId, { inputId: body.inputId, value: body.value, answerer: { subject: p.subject, groups: p.groups } });
    const input = await updateRun(
      client,
      runId,
      () => client.workflow.getHandle(runId).executeUpdate(provideInputUpdate, { args: [message] }),
      (view) => {
        const asked = view.inputs?.find((i) => i.inputId === body.inputId);
        if (!asked) return new ApiError(ErrorCode.NotFound, `input ${body.inputId} not found in run ${runId}`);
        return new ApiError(ErrorCode.AlreadyAnswered, `input ${body.inputId} is ${asked.status}; the run is ${view.status}`);
      },
    );
    logOf(req).info({ runId, inputId: body.inputId }, 'input answered');
    res.json({ input: input satisfies PendingInputBody });
  });

  return r;
}

const idempotencyKey = (raw: string): string => {
  const parsed = IdempotencyKeySchema.safeParse(raw);
  if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, `Idempotency-Key header: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
};

/** 422: the key already started a run with another body (agent, input or onBehalfOf). */
const keyReused = () => new ApiError(ErrorCode.IdempotencyKeyReused, 'Idempotency-Key was already used with a different request body (agent, input or onBehalfOf); use a new key');

/**
 * Starts the run's workflow. A run id is never used twice: a start whose id exists, running or closed, starts
 * nothing and returns that run's status and the request hash it recorded.
 */
async function startRun(
  client: Client,
  taskQueue: string,
  run: { runId: string; args: RunInput; agent: string; requester: string; requestHash: string },
): Promise<{ status: string; requestHash?: string } | undefined> {
  try {
    await client.workflow.start(agentRunWorkflow, {
      workflowId: run.runId,
      taskQueue,
      args: [run.args],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      memo: { requestHash: run.requestHash },
      typedSearchAttributes: [
        { key: SA.agent, value: run.agent },
        { key: SA.requester, value: run.requester },
        { key: SA.status, value: 'running' },
        { key: SA.risk, value: 'low' },
      ],
      staticSummary: `${run.agent} for ${run.requester}`,
    });
    return undefined;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return existingRun(client, run.runId);
  }
}

/** The status and recorded request hash of a run that exists; 409 when Temporal no longer has it (past retention). */
async function existingRun(client: Client, runId: string): Promise<{ status: string; requestHash?: string }> {
  let desc: WorkflowExecutionDescription;
  try {
    desc = await client.workflow.getHandle(runId).describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    throw new ApiError(ErrorCode.RunClosed, `run ${runId} of this Idempotency-Key has ended and is no longer kept; the key cannot start another run`);
  }
  const memoHash = desc.memo?.requestHash;
  return {
    status: desc.typedSearchAttributes.get(SA.status) ?? (desc.status.name === 'RUNNING' ? 'running' : desc.status.name.toLowerCase()),
    ...(typeof memoHash === 'string' ? { requestHash: memoHash } : {}),
  };
}
