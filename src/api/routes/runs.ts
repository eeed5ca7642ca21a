// Runs: requesters start them; the requester and operators read and cancel them.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Router } from 'express';
import { randomBytes } from 'node:crypto';
import { agentRunWorkflow } from '../../../workflows/agentRun.js';
import { provideInputUpdate, SA } from '../../../workflows/definitions.js';
import { digestOf } from '../../core/canonical.js';
import { ErrorCode } from '../../core/errors.js';
import { isOpen, runIdForKey, runIdFromBytes } from '../../core/run.js';
import type { Principal, RunIdentity, RunInput, RunView } from '../../core/types.js';
import { agentSpec } from '../../config/load.js';
import { hasRole } from '../../identity/users.js';
import { principalOf, requireRole } from '../auth.js';
import { logOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, forbidden } from '../errors.js';
import { InputBodySchema, RunIdParamsSchema, StartRunBodySchema } from '../schemas.js';
import { runView, updateRun } from '../workflows.js';

/** The requester reads their own runs; operators, admins and approvers (who must see what they decide) read any. */
const mayRead = (p: Principal, view: RunView) => view.requester === p.subject || hasRole(p, 'operator', 'admin', 'approver');
const mayCancel = (p: Principal, view: RunView) => view.requester === p.subject || hasRole(p, 'operator', 'admin');

/** The same Idempotency-Key from the same caller names the same run; without one, every start is a new run. */
const runIdFor = (subject: string, idempotencyKey: string | undefined): string => (idempotencyKey ? runIdForKey(subject, idempotencyKey) : runIdFromBytes(randomBytes(10)));

export function runRoutes({ config, client }: Pick<ApiDeps, 'config' | 'client'>): Router {
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

    const runId = runIdFor(p.subject, req.header('idempotency-key'));
    const spec = agentSpec(config, body.agent);
    if (body.onBehalfOf !== undefined && p.kind !== 'service') throw forbidden('only service accounts may act on behalf of another user');
    const identity: RunIdentity = { kind: p.kind, subject: p.subject, groups: p.groups, ...(body.onBehalfOf ? { onBehalfOf: body.onBehalfOf } : {}) };
    await startRun(client, taskQueue, {
      runId,
      args: { runId, agent: spec, input: body.input, principal: p, identity, inputDigest: digestOf(body.input) },
      agent: body.agent,
      requester: p.subject,
    });
    logOf(req).info({ runId, agent: body.agent }, 'run started');
    res.status(202).location(`/v1/runs/${runId}`).json({ runId, status: 'running' });
  });

  r.get('/runs/:runId', async (req, res) => {
    const { runId } = RunIdParamsSchema.parse(req.params);
    const view = await runView(client, runId);
    if (!mayRead(principalOf(req), view)) throw forbidden('this run is not yours');
    res.json(view);
  });

  r.post('/runs/:runId/cancel', async (req, res) => {
    const { runId } = RunIdParamsSchema.parse(req.params);
    const view = await runView(client, runId);
    if (!mayCancel(principalOf(req), view)) throw forbidden('only the requester or an operator can cancel a run');
    if (!isOpen(view.status)) throw new ApiError(ErrorCode.RunClosed, `run is already ${view.status}`);
    await client.workflow.getHandle(runId).cancel();
    res.status(202).json({ runId, status: 'cancelling' });
  });

  // The answer to a question the agent's graph asked (interrupt): the requester, or a member of a group the agent names.
  r.post('/runs/:runId/input', async (req, res) => {
    const { runId } = RunIdParamsSchema.parse(req.params);
    const body = InputBodySchema.parse(req.body);
    const p = principalOf(req);
    const input = await updateRun(
      client,
      runId,
      () =>
        client.workflow.getHandle(runId).executeUpdate(provideInputUpdate, {
          // The answerer is the token's subject, never a field of the body.
          args: [{ inputId: body.inputId, value: body.value, answerer: { subject: p.subject, groups: p.groups } }],
        }),
      (view) => {
        const asked = view.inputs?.find((i) => i.inputId === body.inputId);
        if (!asked) return new ApiError(ErrorCode.NotFound, `input ${body.inputId} not found in run ${runId}`);
        return new ApiError(ErrorCode.AlreadyAnswered, `input ${body.inputId} is ${asked.status}; the run is ${view.status}`);
      },
    );
    logOf(req).info({ runId, inputId: body.inputId }, 'input answered');
    res.json({ input });
  });

  return r;
}

/** Starts the run's workflow; a start with the same id (a repeated Idempotency-Key) finds the run already there. */
async function startRun(client: Client, taskQueue: string, run: { runId: string; args: RunInput; agent: string; requester: string }): Promise<void> {
  try {
    await client.workflow.start(agentRunWorkflow, {
      workflowId: run.runId,
      taskQueue,
      args: [run.args],
      typedSearchAttributes: [
        { key: SA.agent, value: run.agent },
        { key: SA.requester, value: run.requester },
        { key: SA.status, value: 'running' },
        { key: SA.risk, value: 'low' },
      ],
      staticSummary: `${run.agent} for ${run.requester}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
