// The governance readiness report, from the live configuration, policies, pins and registry status.
import { Router } from 'express';
import { buildReadinessReport } from '../../readiness/report.js';
import { requireReader } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import type { ReadinessReportBody } from '../openapi/governance.js';

export function readinessRoutes({ config, policies, lock, statuses }: Pick<ApiDeps, 'config' | 'policies' | 'lock' | 'statuses'>): Router {
  const r = Router();
  r.get('/readiness', (req, res) => {
    requireReader(req, 'the readiness report');
    res.json(buildReadinessReport(config, { policy: policies.current(), lock: lock.current(), status: statuses.current() }) satisfies ReadinessReportBody);
  });
  return r;
}
