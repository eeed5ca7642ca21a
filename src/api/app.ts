import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;
import express, { type NextFunction, type Request, type Response } from 'express';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { agentRunWorkflow } from '../../workflows/agentRun.js';
import { decideApprovalUpdate, getRunQuery, PENDING_MEMO, SA } from '../../workflows/definitions.js';
import { mayDecide, runIdOfApproval } from '../core/approvals.js';
import type { Approval, JsonObject, Principal, RunIdentity, RunView } from '../core/types.js';
import { agentSpec, type AirlockConfig } from '../config/load.js';
import { AuthError, type TokenVerifier } from '../identity/devIssuer.js';
import { hasRole } from '../identity/users.js';
import { PolicySource } from '../policy/source.js';
import { scanAndPin } from '../registry/approve.js';
import { defaultSecretSource } from '../registry/credentials.js';
import { LockStore } from '../registry/lock.js';
import { digestOf } from '../core/canonical.js';
import { McpPool } from '../registry/pool.js';
import { effectiveStatus } from '../core/registry.js';
import { registryStatusFile, StatusStore } from '../registry/status.js';
import type { Logger } from '../log/logger.js';
import { ApiError, badRequest, conflict, FAILURE_STATUS, forbidden, gone, notFound, unauthorized } from './errors.js';
import { openApiDocument } from './openapi.js';
import { requestTracing } from '../observability/http.js';
import { metricsHandler, observeApprovalDecision } from '../observability/metrics.js';
import { allRecords } from '../audit/index.js';
import { RegistryAudit } from '../audit/registry.js';
import { buildReadinessReport } from '../readiness/report.js';
import type { AuditRecord, AuditStore } from '../audit/types.js';
import { ApprovalIdParamsSchema, ApprovalsQuerySchema, AuditQuerySchema, DecisionBodySchema, RunIdParamsSchema, StartRunBodySchema } from './schemas.js';

export interface ApiDeps {
  config: AirlockConfig;
  client: Client;
  verifier: TokenVerifier;
  log: Logger;
  audit: AuditStore;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    log?: Logger;
  }
}

const principalOf = (req: Request): Principal => req.principal!;

export function createApp({ config, client, verifier, log, audit }: ApiDeps) {
  const app = express();
  app.disable('x-powered-by');
  const { namespace, taskQueue } = config.temporal;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const inputValidators = new Map(Object.entries(config.agents).map(([name, a]) => [name, ajv.compile(a.inputSchema)]));

  app.use((req, res, next) => {
    const requestId = (req.header('x-request-id') ?? '').slice(0, 100) || randomBytes(8).toString('hex');
    res.setHeader('x-request-id', requestId);
    req.log = log.child({ requestId });
    const start = Date.now();
    res.on('finish', () => req.log!.info({ method: req.method, path: req.path, status: res.statusCode, ms: Date.now() - start }, 'request'));
    next();
  });
  app.use(requestTracing());
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  if (config.observability.metrics.enabled) app.get('/metrics', metricsHandler(client, log));
  app.get('/readyz', async (_req, res) => {
    const checks = await readiness(client, namespace, taskQueue);
    res.status(checks.temporal && checks.worker ? 200 : 503).json(checks);
  });
  app.get('/openapi.json', (req, res) => void res.json(openApiDocument(`${req.protocol}://${req.get('host')}`)));

  const v1 = express.Router();
  v1.use(async (req, _res, next) => {
    const m = /^Bearer (.+)$/.exec(req.header('authorization') ?? '');
    if (!m) throw unauthorized('missing bearer token');
    try {
      req.principal = await verifier.verify(m[1]!);
    } catch (err) {
      if (err instanceof AuthError) throw unauthorized(err.message);
      throw err;
    }
    req.log = req.log!.child({ principal: req.principal.subject });
    next();
  });

  /** Operators and admins may read the policy set and the registry. */
  const requireReader = (req: Request, what: string) => {
    if (!hasRole(principalOf(req), 'admin', 'operator')) throw forbidden(`reading ${what} needs the admin or operator role`);
  };

  // The policy set new decisions use (workers reload the same directory on change).
  const policies = new PolicySource(config.policy.dir);
  v1.get('/policy', (req, res) => {
    requireReader(req, 'the policy set');
    const engine = policies.current();
    if (engine instanceof Error) return void res.status(503).json({ dir: config.policy.dir, error: engine.message });
    res.json({ dir: config.policy.dir, version: engine.version, policies: engine.policyIds, warnings: engine.warnings });
  });

  // The catalog and its pins (workers enforce them; changes go through `airlock registry`).
  const lock = new LockStore(config.registry.lockFile);
  const statuses = new StatusStore(registryStatusFile(config));
  const ServerParams = z.strictObject({ server: z.string().min(1).max(100) });
  v1.get('/registry/servers', (req, res) => {
    requireReader(req, 'the registry');
    const pins = lock.current();
    if (pins instanceof Error) return void res.status(503).json({ lockFile: config.registry.lockFile, error: pins.message });
    const overrides = statuses.current();
    const changeOf = (id: string) => (overrides instanceof Error ? null : (overrides.servers[id] ?? null));
    res.json({
      lockFile: config.registry.lockFile,
      servers: Object.entries(config.servers).map(([id, s]) => ({
        id,
        transport: s.transport,
        status: effectiveStatus(s.status, changeOf(id)),
        statusChange: changeOf(id),
        owner: s.owner ?? null,
        classification: s.classification,
        allowedTools: s.tools ?? null,
        pinned: pins.servers[id]
          ? { at: pins.servers[id].pinnedAt, by: pins.servers[id].pinnedBy, tools: Object.keys(pins.servers[id].tools), override: pins.servers[id].override ?? null }
          : null,
      })),
    });
  });
  const registryAudit = new RegistryAudit(audit, log);
  /** A registry change is recorded before it is applied; no record, no change. */
  const auditFirst = async (write: () => Promise<void>) => {
    try {
      await write();
    } catch (err) {
      throw new ApiError(503, 'audit_unavailable', `the audit store refused the record, so nothing was changed: ${(err as Error).message}`);
    }
  };
  const adminServer = (req: Request) => {
    const p = principalOf(req);
    if (!hasRole(p, 'admin')) throw forbidden('changing the registry needs the admin role');
    const { server } = ServerParams.parse(req.params);
    if (!config.servers[server]) throw notFound(`server ${server}`);
    if (config.servers[server].status === 'retired') throw conflict('retired', `server ${server} is retired in the catalog; edit the config to bring it back`);
    return { p, server };
  };
  const ReasonBody = z.strictObject({ reason: z.string().min(1).max(2000) });
  for (const action of ['quarantine', 'retire'] as const) {
    v1.post(`/registry/servers/:server/${action}`, async (req, res) => {
      const { p, server } = adminServer(req);
      const { reason } = ReasonBody.parse(req.body);
      const entry = { status: action === 'quarantine' ? ('quarantined' as const) : ('retired' as const), by: p.subject, at: new Date().toISOString(), reason };
      await auditFirst(() => registryAudit.record(`registry.${entry.status}`, server, p.subject, entry.status, { reason }));
      statuses.set(server, entry);
      req.log!.warn({ server, ...entry }, `MCP server ${entry.status}`);
      res.json({ server, ...entry });
    });
  }
  v1.post('/registry/servers/:server/approve', async (req, res) => {
    const { p, server } = adminServer(req);
    const body = z.strictObject({ reason: z.string().min(1).max(2000), overrideFindings: z.string().min(1).max(2000).optional() }).parse(req.body);
    const pool = new McpPool(config.servers, log.child({ component: 'registry' }), undefined, {
      secrets: defaultSecretSource(config.env),
      allowedHosts: config.registry.allowedHosts,
    });
    try {
      const r = await scanAndPin(config, pool, lock, [server], p.subject, body.overrideFindings);
      if (!r.ok) {
        throw new ApiError(422, 'findings', `scanner findings block approval of ${server}; approve with overrideFindings to accept them`, r.findings[0]!.text.split('\n'));
      }
      const entry = { status: 'approved' as const, by: p.subject, at: new Date().toISOString(), reason: body.reason };
      await auditFirst(() =>
        registryAudit.record('registry.approved', server, p.subject, 'approved', {
          reason: body.reason,
          pinnedTools: r.pinned[0]!.tools,
          overriddenFindings: r.pinned[0]!.overridden,
        }),
      );
      statuses.set(server, entry);
      req.log!.warn({ server, ...entry, tools: r.pinned[0]!.tools }, 'MCP server approved and pinned');
      res.json({ server, ...entry, pinnedTools: r.pinned[0]!.tools, overriddenFindings: r.pinned[0]!.overridden });
    } finally {
      await pool.close();
    }
  });
  v1.get('/registry/servers/:server/tools', (req, res) => {
    requireReader(req, 'the registry');
    const { server } = ServerParams.parse(req.params);
    if (!config.servers[server]) throw notFound(`server ${server}`);
    const pins = lock.current();
    if (pins instanceof Error) return void res.status(503).json({ error: pins.message });
    const entry = pins.servers[server];
    if (!entry) throw notFound(`pins for server ${server} (run \`airlock registry pin ${server}\`)`);
    res.json({ server, tools: Object.entries(entry.tools).map(([name, t]) => ({ name, sha256: t.sha256, definition: t.definition })) });
  });

  // The governance readiness report, from the live configuration, policies, pins and registry status.
  v1.get('/readiness', (req, res) => {
    requireReader(req, 'the readiness report');
    res.json(buildReadinessReport(config, { policy: policies.current(), lock: lock.current(), status: statuses.current() }));
  });

  // The audit trail (operators and admins): filtered pages, a JSONL export, and one run's whole story.
  v1.get('/audit', async (req, res) => {
    requireReader(req, 'the audit trail');
    const { format, ...q } = AuditQuerySchema.parse(req.query);
    if (format === 'jsonl') {
      res.type('application/x-ndjson').setHeader('content-disposition', 'attachment; filename="airlock-audit.jsonl"');
      for await (const r of allRecords(audit, q)) res.write(`${JSON.stringify(r)}\n`);
      return void res.end();
    }
    const records = await audit.query(q);
    res.json({ records, next: records.length === q.limit ? String(records.at(-1)!.seq) : null });
  });
  v1.get('/runs/:runId/audit', async (req, res) => {
    requireReader(req, "a run's audit trail");
    const { runId } = RunIdParamsSchema.parse(req.params);
    const records: AuditRecord[] = [];
    for await (const r of allRecords(audit, { runId })) records.push(r);
    if (!records.length) throw notFound(`audit records of run ${runId}`);
    res.json({ runId, records });
  });

  v1.post('/runs', async (req, res) => {
    const p = principalOf(req);
    if (!hasRole(p, 'requester')) throw forbidden('starting runs needs the requester role');
    const body = StartRunBodySchema.parse(req.body);
    const agent = config.agents[body.agent];
    if (!agent) throw badRequest('unknown_agent', `unknown agent "${body.agent}" (known: ${Object.keys(config.agents).join(', ')})`);
    const validate = inputValidators.get(body.agent)!;
    if (!validate(body.input)) throw badRequest('invalid_input', `input does not match agent ${body.agent}: ${ajv.errorsText(validate.errors)}`);

    const key = req.header('idempotency-key');
    const runId = key
      ? `run-${createHash('sha256').update(`${p.subject}\0${key}`).digest('hex').slice(0, 20)}`
      : `run-${randomBytes(10).toString('hex')}`;
    const spec = agentSpec(config, body.agent);
    if (body.onBehalfOf !== undefined && p.kind !== 'service') throw forbidden('only service accounts may act on behalf of another user');
    const identity: RunIdentity = { kind: p.kind, subject: p.subject, groups: p.groups, ...(body.onBehalfOf ? { onBehalfOf: body.onBehalfOf } : {}) };
    try {
      await client.workflow.start(agentRunWorkflow, {
        workflowId: runId,
        taskQueue,
        args: [{ runId, agent: spec, input: body.input, principal: p, identity, inputDigest: digestOf(body.input) }],
        typedSearchAttributes: [
          { key: SA.agent, value: body.agent },
          { key: SA.requester, value: p.subject },
          { key: SA.status, value: 'running' },
          { key: SA.risk, value: 'low' },
        ],
        staticSummary: `${body.agent} for ${p.subject}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Same Idempotency-Key from the same caller: the run already exists.
    }
    req.log!.info({ runId, agent: body.agent }, 'run started');
    res.status(202).location(`/v1/runs/${runId}`).json({ runId, status: 'running' });
  });

  v1.get('/runs/:runId', async (req, res) => {
    const { runId } = RunIdParamsSchema.parse(req.params);
    const view = await runView(runId);
    const p = principalOf(req);
    if (view.requester !== p.subject && !hasRole(p, 'operator', 'admin', 'approver')) throw forbidden('this run is not yours');
    res.json(view);
  });

  v1.post('/runs/:runId/cancel', async (req, res) => {
    const { runId } = RunIdParamsSchema.parse(req.params);
    const view = await runView(runId);
    const p = principalOf(req);
    if (view.requester !== p.subject && !hasRole(p, 'operator', 'admin')) throw forbidden('only the requester or an operator can cancel a run');
    if (!['running', 'awaiting_approval'].includes(view.status)) throw conflict('run_closed', `run is already ${view.status}`);
    await client.workflow.getHandle(runId).cancel();
    res.status(202).json({ runId, status: 'cancelling' });
  });

  v1.get('/approvals', async (req, res) => {
    const p = principalOf(req);
    const q = ApprovalsQuerySchema.parse(req.query);
    const seeAll = hasRole(p, 'operator', 'admin');
    if (!seeAll && !hasRole(p, 'approver')) throw forbidden('listing approvals needs the approver or operator role');
    if (!seeAll && p.groups.length === 0) return void res.json({ approvals: [] });
    const groups = p.groups.map((g) => `'${g.replace(/'/g, "\\'")}'`).join(', ');
    const query = `${SA.status.name} = 'awaiting_approval'${seeAll ? '' : ` AND ${SA.pendingGroups.name} IN (${groups})`}`;
    const approvals: Approval[] = [];
    for await (const wf of client.workflow.list({ query, pageSize: Math.min(q.limit, 1000) })) {
      const pending = (wf.memo?.[PENDING_MEMO] ?? []) as Approval[];
      for (const a of pending) {
        if (seeAll || mayDecide(a, p, Date.now())) approvals.push(a);
      }
      if (approvals.length >= q.limit) break;
    }
    res.json({ approvals: approvals.slice(0, q.limit) });
  });

  v1.post('/approvals/:approvalId/decision', async (req, res) => {
    const p = principalOf(req);
    const { approvalId } = ApprovalIdParamsSchema.parse(req.params);
    const body = DecisionBodySchema.parse(req.body);
    if (!hasRole(p, 'approver')) throw forbidden('deciding approvals needs the approver role');
    const runId = runIdOfApproval(approvalId);
    if (!runId) throw notFound(`approval ${approvalId}`);
    const handle = client.workflow.getHandle(runId);
    try {
      const approval = await handle.executeUpdate(decideApprovalUpdate, {
        args: [
          {
            approvalId,
            decision: body.decision,
            ...(body.comment !== undefined ? { comment: body.comment } : {}),
            ...(body.args !== undefined ? { args: body.args as JsonObject } : {}),
            ...(body.digest !== undefined ? { digest: body.digest } : {}),
            approver: { subject: p.subject, groups: p.groups },
          },
        ],
      });
      req.log!.info({ approvalId, decision: body.decision }, 'approval decided');
      observeApprovalDecision(approval);
      res.json({ approval });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        const [status, code] = FAILURE_STATUS[err.cause.type ?? ''] ?? [422, 'decision_refused'];
        throw new ApiError(status, code, err.cause.message);
      }
      if (err instanceof WorkflowNotFoundError || isClosedWorkflowError(err)) {
        // The run has ended: say what became of this approval.
        const view = await runView(runId);
        const a = view.approvals.find((x) => x.approvalId === approvalId);
        if (!a) throw notFound(`approval ${approvalId}`);
        if (a.status === 'expired') throw gone('expired', `approval ${approvalId} expired at ${a.expiresAt}`);
        throw conflict('already_decided', `approval ${approvalId} is ${a.status}; the run is ${view.status}`);
      }
      throw err;
    }
  });

  app.use('/v1', v1);
  app.use((req, _res, next) => next(notFound(`route ${req.method} ${req.path}`)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toApiError(err);
    if (e.status >= 500) (req.log ?? log).error({ err }, 'request failed');
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
  });

  async function runView(runId: string): Promise<RunView> {
    const handle = client.workflow.getHandle(runId);
    try {
      return await handle.query(getRunQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(`run ${runId}`);
      // A closed run whose history cannot be replayed (no worker): fall back to its recorded result.
      try {
        return await handle.result();
      } catch (resultErr) {
        if (resultErr instanceof WorkflowFailedError && resultErr.cause instanceof ApplicationFailure) {
          const view = resultErr.cause.details?.[0] as RunView | undefined;
          if (view) return view;
        }
        throw err;
      }
    }
  }

  return app;
}

function isClosedWorkflowError(err: unknown): boolean {
  return err instanceof Error && /workflow execution already completed|already completed/i.test(err.message);
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof z.ZodError) {
    const issue = err.issues[0]!;
    const message = `${issue.path.length ? issue.path.join('.') + ': ' : ''}${issue.message}`;
    return badRequest('invalid_request', message, err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.parse.failed') return badRequest('invalid_json', 'request body is not valid JSON');
  if (e.type === 'entity.too.large') return new ApiError(413, 'too_large', 'request body is too large');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new ApiError(e.status, 'bad_request', e.message ?? 'bad request');
  return new ApiError(500, 'internal', 'internal error');
}

export async function readiness(client: Client, namespace: string, taskQueue: string) {
  const out = { temporal: false, worker: false };
  try {
    const tq = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    out.temporal = true;
    out.worker = (tq.pollers ?? []).length > 0;
  } catch {
    /* not reachable */
  }
  return out;
}
