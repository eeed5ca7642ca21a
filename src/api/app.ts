// The REST API, assembled: request context, tracing and body parsing; public health routes; the
// authenticated /v1 routes; then one 404/405 handler and one error middleware. Listening is the caller's job.
import express, { type Express } from 'express';
import { requestTracing } from '../observability/http.js';
import { authenticate } from './auth.js';
import { bodyDepthLimit } from './bodyDepth.js';
import { requestContext } from './context.js';
import type { ApiDeps } from './deps.js';
import { errorHandler } from './errors.js';
import { JSON_BODY_LIMIT, unmatchedRoute } from './http.js';
import { approvalRoutes } from './routes/approvals.js';
import { auditRoutes } from './routes/audit.js';
import { codecRoutes } from './routes/codec.js';
import { docsRoutes } from './routes/docs.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { policyRoutes } from './routes/policy.js';
import { readinessRoutes } from './routes/readiness.js';
import { registryRoutes } from './routes/registry.js';
import { revocationRoutes } from './routes/revocations.js';
import { runRoutes } from './routes/runs.js';
import { inboxRoutes } from '../inbox/routes.js';

export type { ApiDeps } from './deps.js';

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(deps.log));
  // After the request id, which the span records.
  app.use(requestTracing());
  // The Temporal UI's codec endpoint: its own CORS, operator sign-in and body limit (payloads are large).
  app.use(codecRoutes(deps));
  // The approver inbox (pages, sign-in, static assets): its own body parsing and session cookie.
  app.use(inboxRoutes(deps));
  app.use(express.json({ limit: JSON_BODY_LIMIT }));
  // Before any route validates a body: a deeply nested one is a 400, not a stack overflow.
  app.use(bodyDepthLimit());

  app.use(healthRoutes(deps));
  // Swagger UI over /openapi.json, public like the document itself.
  app.use(docsRoutes());

  const v1 = express.Router();
  // Every /v1 path needs a valid token, an unknown one included.
  v1.use(authenticate(deps.verifier));
  v1.use(policyRoutes(deps), registryRoutes(deps), readinessRoutes(deps), auditRoutes(deps), runRoutes(deps), approvalRoutes(deps), revocationRoutes(deps), eventRoutes(deps));
  app.use('/v1', v1);

  app.use(unmatchedRoute(app));
  app.use(errorHandler(deps.log));
  return app;
}
