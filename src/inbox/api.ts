// What the inbox needs that the REST API does not offer its users: the agents with their input schemas (for the
// start form), and a check of an approver's edited args against the tool's pinned input schema (the registry's
// tool definitions are for operators; an approver sees only whether the edit fits, and why not).
import { Ajv as AjvDraft7, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../api/deps.js';
import type { Principal, RunInput } from '../core/types.js';
import { runView } from '../api/workflows.js';
import { hasRole } from '../identity/users.js';
import { LockError } from '../registry/lock.js';
import type { SessionStore } from './sessions.js';
import { sendError, sessionOf } from './session.js';
import { temporalUiUrl, type InboxSettings } from './settings.js';

const CheckArgsBodySchema = z.strictObject({ tool: z.string().min(3).max(200), args: z.record(z.string(), z.json()) });

export function inboxApiRoutes(deps: ApiDeps, sessions: SessionStore, settings: InboxSettings): Router {
  const { config, verifier } = deps;
  const r = Router();
  // As the worker checks calls (activities/control.ts): draft-07 schemas with draft-07, the rest with 2020-12.
  const ajv2020 = new Ajv2020({ allErrors: true, strict: false });
  const ajv7 = new AjvDraft7({ allErrors: true, strict: false });
  const validators = new Map<string, ValidateFunction>();

  const principal = async (req: Request, res: Response): Promise<Principal | undefined> => {
    const s = await sessionOf(req, sessions, verifier);
    if ('error' in s) return void sendError(res, 401, 'unauthorized', s.error);
    res.setHeader('Cache-Control', 'no-store');
    return s.principal;
  };

  // The agents a requester may start, with the JSON Schema of their input (the form is generated from it).
  r.get('/inbox/api/agents', async (req, res) => {
    if (!(await principal(req, res))) return;
    const agents = Object.entries(config.agents).map(([name, a]) => ({ name, description: (a as { description?: string }).description ?? '', inputSchema: a.inputSchema }));
    res.json({ agents });
  });

  // Where the page links to: the Temporal UI (run pages) and its namespace.
  r.get('/inbox/api/settings', async (req, res) => {
    if (!(await principal(req, res))) return;
    res.json({ temporalUi: temporalUiUrl(config, settings) ?? null, namespace: config.temporal.namespace });
  });

  // What the run was asked: its start input, from the workflow's first history event (decoded with the API's payload
  // codec). The run view does not carry it. Read as the run is (the requester, approvers, operators, admins).
  r.get('/inbox/api/runs/:runId/input', async (req, res) => {
    const p = await principal(req, res);
    if (!p) return;
    const runId = String(req.params.runId);
    const view = await runView(deps.client, runId).catch(() => undefined);
    if (!view) return sendError(res, 404, 'not_found', `run ${runId} not found`);
    if (view.requester !== p.subject && !hasRole(p, 'approver', 'operator', 'admin')) return sendError(res, 403, 'forbidden', 'this run is not yours');
    const history = await deps.client.workflow.getHandle(runId).fetchHistory();
    let payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const { payloadCodecs, payloadConverter } = deps.client.options.loadedDataConverter;
    for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    const args = payloads[0] ? (payloadConverter.fromPayload(payloads[0]) as RunInput) : undefined;
    res.json({ runId, input: args?.input ?? null });
  });

  // Does an edited call fit the tool's pinned input schema? The workflow re-checks it, and policy re-decides it.
  r.post('/inbox/api/check-args', express.json({ limit: '256kb' }), async (req, res) => {
    const p = await principal(req, res);
    if (!p) return;
    if (!hasRole(p, 'approver', 'operator', 'admin')) return sendError(res, 403, 'forbidden', 'checking edits needs the approver role');
    const body = CheckArgsBodySchema.safeParse(req.body);
    if (!body.success) return sendError(res, 400, 'invalid_request', body.error.issues[0]!.message);
    const dot = body.data.tool.indexOf('.');
    const [server, tool] = [body.data.tool.slice(0, dot), body.data.tool.slice(dot + 1)];
    const lock = deps.lock.current();
    const pinned = lock instanceof LockError ? undefined : lock.servers[server]?.tools[tool];
    const schema = (pinned?.definition as { inputSchema?: object } | undefined)?.inputSchema;
    if (!pinned || !schema) return void res.json({ checked: false, valid: true, errors: [], note: `no pinned definition of ${body.data.tool}: only the JSON was checked` });
    const key = `${body.data.tool}@${pinned.sha256}`;
    let validate = validators.get(key);
    if (!validate) {
      const ajv = /draft-07/.test(String((schema as { $schema?: unknown }).$schema ?? '')) ? ajv7 : ajv2020;
      try {
        validate = ajv.compile(schema);
      } catch (err) {
        return void res.json({
          checked: false,
          valid: true,
          errors: [],
          note: `the pinned schema of ${body.data.tool} cannot be compiled here (${(err as Error).message}): only the JSON was checked`,
        });
      }
      validators.set(key, validate);
    }
    const valid = validate(body.data.args);
    res.json({ checked: true, valid, errors: valid ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(args)'} ${e.message ?? 'is invalid'}`) });
  });

  return r;
}
