import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import type { RequestHandler } from 'express';

/**
 * A server span per API request, continuing a caller's W3C `traceparent` when given. The span is the
 * active context of everything the request does, so the workflow client's spans (start, update, query)
 * and through them the run's workflow and activities join the request's trace. With tracing off this is
 * the OpenTelemetry API's no-op. Goes right after the request-id middleware, which it reads; the logger's
 * mixin adds the trace id to the request's log lines.
 */
export function requestTracing(): RequestHandler {
  const tracer = trace.getTracer('airlock-api');
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_URL_PATH]: req.path, 'airlock.request_id': String(res.getHeader('x-request-id') ?? '') } },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      // The route template (`/v1/runs/:runId`), never the concrete path, names the span.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : undefined;
      if (route) {
        span.setAttribute(ATTR_HTTP_ROUTE, route);
        span.updateName(`${req.method} ${route}`);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    const ctx = trace.setSpan(parent, span);
    // Body parsing runs in the request stream's callbacks: bind them to the request's context too.
    context.bind(ctx, req);
    context.bind(ctx, res);
    context.with(ctx, next);
  };
}
