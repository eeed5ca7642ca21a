// GET /v1/events: a server-sent event stream of what the caller may see (approvals, run status, interrupts).
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';

export function eventRoutes(_deps: ApiDeps): Router {
  return Router();
}
