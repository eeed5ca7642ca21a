// The policy set new decisions use, for operators and admins.
import { Router } from 'express';
import { requireReader } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import type { PolicySet } from '../openapi/governance.js';

export function policyRoutes({ config, policies }: Pick<ApiDeps, 'config' | 'policies'>): Router {
  const r = Router();
  r.get('/policy', (req, res) => {
    requireReader(req, 'the policy set');
    const engine = policies.current();
    if (engine instanceof Error) return void res.status(503).json({ dir: config.policy.dir, error: engine.message });
    res.json({ dir: config.policy.dir, version: engine.version, policies: engine.policyIds, warnings: engine.warnings } satisfies PolicySet);
  });
  return r;
}
