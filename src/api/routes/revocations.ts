// Token revocation (role admin): revoke one token by its `jti`, or every token of a subject issued until now.
// The deny list is shared by every API replica and checked on every authenticated request.
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { ErrorCode } from '../../core/errors.js';
import { requireRole } from '../auth.js';
import { logOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import type { RevocationView } from '../openapi/responses.js';
import { ApiError } from '../errors.js';
import { RevocationBodySchema } from '../schemas.js';

export function revocationRoutes({ revocations, audit }: Pick<ApiDeps, 'revocations' | 'audit'>): Router {
  const r = Router();

  r.post('/revocations', async (req, res) => {
    const p = requireRole(req, ['admin'], 'revoking tokens needs the admin role');
    const body = RevocationBodySchema.parse(req.body);
    const revocation = await revocations.revoke(
      body.jti !== undefined ? { kind: 'jti', value: body.jti, reason: body.reason, revokedBy: p.subject } : { kind: 'subject', value: body.subject!, reason: body.reason, revokedBy: p.subject },
    );
    // On the identity chain of the audit trail, with who revoked what and why (the token itself is never recorded).
    try {
      await audit.append([
        {
          eventId: randomUUID(),
          chain: 'identity',
          type: 'identity.revoked',
          at: new Date().toISOString(),
          principal: p.subject,
          outcome: 'revoked',
          data: { kind: body.jti !== undefined ? 'jti' : 'subject', value: body.jti ?? body.subject!, reason: body.reason },
        },
      ]);
    } catch (err) {
      throw new ApiError(ErrorCode.AuditUnavailable, `the token is revoked, but the audit store refused the record: ${(err as Error).message}`, undefined, { cause: err });
    }
    logOf(req).info({ revocation }, 'token revoked');
    res.status(201).json({ revocation: revocation satisfies RevocationView });
  });

  r.get('/revocations', async (req, res) => {
    requireRole(req, ['admin'], 'reading revocations needs the admin role');
    res.json({ revocations: await revocations.list() });
  });

  return r;
}
