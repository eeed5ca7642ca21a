// The catalog and its pins, for operators and admins; admins quarantine, retire and approve servers.
// Workers enforce what is decided here (`airlock registry` is the CLI for the same changes).
import { Router, type Request } from 'express';
import { effectiveStatus } from '../../core/registry.js';
import { ErrorCode } from '../../core/errors.js';
import { scanAndPin } from '../../registry/approve.js';
import { requireReader, requireRole } from '../auth.js';
import { logOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import type { RegistryServers, ServerApproved, ServerStatusChanged, ServerTools } from '../openapi/registry.js';
import { ApproveServerBodySchema, ReasonBodySchema, ServerParamsSchema } from '../schemas.js';

type RegistryDeps = Pick<ApiDeps, 'config' | 'lock' | 'statuses' | 'registryAudit' | 'scanPool'>;

export function registryRoutes({ config, lock, statuses, registryAudit, scanPool }: RegistryDeps): Router {
  const r = Router();

  r.get('/registry/servers', (req, res) => {
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
          ? {
              at: pins.servers[id].pinnedAt,
              by: pins.servers[id].pinnedBy,
              reviewedBy: pins.servers[id].reviewedBy ?? null,
              tools: Object.keys(pins.servers[id].tools),
              override: pins.servers[id].override ?? null,
            }
          : null,
      })),
    } satisfies RegistryServers);
  });

  /** A registry change is recorded before it is applied; no record, no change. */
  const auditFirst = async (write: () => Promise<void>) => {
    try {
      await write();
    } catch (err) {
      throw new ApiError(ErrorCode.AuditUnavailable, `the audit store refused the record, so nothing was changed: ${(err as Error).message}`, undefined, { cause: err });
    }
  };

  /** The admin changing a server of the catalog (a catalog retirement is final here). */
  const adminServer = (req: Request) => {
    const p = requireRole(req, ['admin'], 'changing the registry needs the admin role');
    const { server } = ServerParamsSchema.parse(req.params);
    if (!config.servers[server]) throw notFound(`server ${server}`);
    if (config.servers[server].status === 'retired') throw new ApiError(ErrorCode.Retired, `server ${server} is retired in the catalog; edit the config to bring it back`);
    return { p, server };
  };

  for (const action of ['quarantine', 'retire'] as const) {
    r.post(`/registry/servers/:server/${action}`, async (req, res) => {
      const { p, server } = adminServer(req);
      const { reason } = ReasonBodySchema.parse(req.body);
      const entry = { status: action === 'quarantine' ? ('quarantined' as const) : ('retired' as const), by: p.subject, at: new Date().toISOString(), reason };
      await auditFirst(() => registryAudit.record(`registry.${entry.status}`, server, p.subject, entry.status, { reason }));
      statuses.set(server, entry);
      logOf(req).warn({ server, ...entry }, `MCP server ${entry.status}`);
      res.json({ server, ...entry } satisfies ServerStatusChanged);
    });
  }

  r.post('/registry/servers/:server/approve', async (req, res) => {
    const { p, server } = adminServer(req);
    const body = ApproveServerBodySchema.parse(req.body);
    // The verified caller is the reviewer: the definitions under review come back in the answer.
    const scan = await scanAndPin(
      config,
      scanPool,
      lock,
      [server],
      p.subject,
      body.overrideFindings,
      (pinned) =>
        auditFirst(() =>
          registryAudit.record('registry.pinned', server, p.subject, 'pinned', { reason: body.reason, tools: pinned.tools, overriddenFindings: pinned.overridden, reviewedBy: p.subject }),
        ),
      { reviewer: p.subject },
    );
    if (!scan.ok) {
      throw new ApiError(ErrorCode.Findings, `scanner findings block approval of ${server}; approve with overrideFindings to accept them`, scan.findings[0]!.text.split('\n'));
    }
    const pinned = scan.pinned[0]!;
    const entry = { status: 'approved' as const, by: p.subject, at: new Date().toISOString(), reason: body.reason };
    await auditFirst(() => registryAudit.record('registry.approved', server, p.subject, 'approved', { reason: body.reason, pinnedTools: pinned.tools, overriddenFindings: pinned.overridden }));
    statuses.set(server, entry);
    logOf(req).warn({ server, ...entry, tools: pinned.tools }, 'MCP server approved and pinned');
    const reviewed = scan.reviewed.find((x) => x.server === server) ?? { tools: [], removed: [] };
    res.json({
      server,
      ...entry,
      pinnedTools: pinned.tools,
      overriddenFindings: pinned.overridden,
      reviewedBy: p.subject,
      reviewed: { tools: reviewed.tools, removed: reviewed.removed },
    } satisfies ServerApproved);
  });

  r.get('/registry/servers/:server/tools', (req, res) => {
    requireReader(req, 'the registry');
    const { server } = ServerParamsSchema.parse(req.params);
    if (!config.servers[server]) throw notFound(`server ${server}`);
    const pins = lock.current();
    if (pins instanceof Error) return void res.status(503).json({ error: pins.message });
    const entry = pins.servers[server];
    if (!entry) throw notFound(`pins for server ${server} (run \`airlock registry pin ${server}\`)`);
    res.json({ server, tools: Object.entries(entry.tools).map(([name, t]) => ({ name, sha256: t.sha256, definition: t.definition })) } satisfies ServerTools);
  });

  return r;
}
