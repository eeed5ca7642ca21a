// The audit trail for operators and admins: filtered pages, a JSONL export, and one run's whole story.
import { Router } from 'express';
import { allRecords } from '../../audit/index.js';
import type { AuditRecord } from '../../audit/types.js';
import { requireReader } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { AuditPage, RunAudit } from '../openapi/audit.js';
import { AuditQuerySchema, RunIdParamsSchema } from '../schemas.js';

export function auditRoutes({ audit }: Pick<ApiDeps, 'audit'>): Router {
  const r = Router();
  r.get('/audit', async (req, res) => {
    requireReader(req, 'the audit trail');
    const { format, ...q } = AuditQuerySchema.parse(req.query);
    if (format === 'jsonl') {
      res.type('application/x-ndjson').setHeader('content-disposition', 'attachment; filename="airlock-audit.jsonl"');
      for await (const rec of allRecords(audit, q)) res.write(`${JSON.stringify(rec)}\n`);
      return void res.end();
    }
    const records = await audit.query(q);
    res.json({ records, next: records.length === q.limit ? String(records.at(-1)!.seq) : null } satisfies AuditPage);
  });
  r.get('/runs/:runId/audit', async (req, res) => {
    requireReader(req, "a run's audit trail");
    const { runId } = RunIdParamsSchema.parse(req.params);
    const records: AuditRecord[] = [];
    for await (const rec of allRecords(audit, { runId })) records.push(rec);
    if (!records.length) throw notFound(`audit records of run ${runId}`);
    res.json({ runId, records } satisfies RunAudit);
  });
  return r;
}
