// The approver inbox at /inbox: sign-in, pending approvals, decisions, run pages (served by the API, same origin).
import { Router } from 'express';
import type { ApiDeps } from '../api/deps.js';

export function inboxRoutes(_deps: ApiDeps): Router {
  return Router();
}
