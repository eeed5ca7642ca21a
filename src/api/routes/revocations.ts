// Token revocation (role admin): revoke one token by its `jti`, or every token of a subject issued until now.
// The deny list is shared by every API replica and checked on every authenticated request.
import { Router } from 'express';
import { requireRole } from '../auth.js';
import { logOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { RevocationBodySchema } from '../schemas.js';

export function revocationRoutes({ revocations }: Pick<ApiDeps, 'revocations'>): Router {
  const r = Router();

  r.post('/revocations', async (req, res) => {
    const p = requireRole(req, ['admin'], 'revoking tokens needs the admin role');
    const body = RevocationBodySchema.parse(req.body);
    const revocation = await revocations.revoke(
      body.jti !== undefined ? { kind: 'jti', value: body.jti, reason: body.reason, revokedBy: p.subject } : { kind: 'subject', value: body.subject!, reason: body.reason, revokedBy: p.subject },
    );
    logOf(req).info({ revocation }, 'token revoked');
    res.status(201).json({ revocation });
  });

  r.get('/revocations', async (req, res) => {
    requireRole(req, ['admin'], 'reading revocations needs the admin role');
    res.json({ revocations: await revocations.list() });
  });

  return r;
}
