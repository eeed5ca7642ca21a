// OpenTelemetry traces: API request → workflow start → workflow → activities → MCP call, one trace.
// Temporal's OpenTelemetry interceptors carry the context through workflow and activity headers; the
// workflow's spans are made inside the sandbox and leave it through the `exporter` sink.
import { context, diag, DiagLogLevel, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_ERROR_TYPE, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Context as ActivityContext } from '@temporalio/activity';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptors, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { createRequire } from 'node:module';
import type { AirlockConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';

/** The module the workflow bundle includes as its interceptors (see src/worker/bundle.ts). */
export const WORKFLOW_TRACING_INTERCEPTORS = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

const VERSION = '0.1.0';

export interface Tracing {
  /** Where spans go; undefined when tracing is off. */
  readonly url?: string;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** Flushes, then stops exporting (idempotent). */
  shutdown(): Promise<void>;
}

interface Active {
  url: string;
  provider: NodeTracerProvider;
  workflowSink: ReturnType<typeof makeWorkflowExporter>;
  users: number;
}
let active: Active | undefined;

/** The OTLP/HTTP traces URL: the configured endpoint, else the standard OTEL_EXPORTER_OTLP_* variables. */
export function otlpTracesUrl(config: AirlockConfig): string | undefined {
  const toTraces = (base: string) => (/\/v1\/traces\/?$/.test(new URL(base).pathname) ? base : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (config.observability.otlp) return toTraces(config.observability.otlp.endpoint);
  if (config.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (config.env.OTEL_EXPORTER_OTLP_ENDPOINT) return toTraces(config.env.OTEL_EXPORTER_OTLP_ENDPOINT);
  return undefined;
}

/**
 * Installs the process's tracer provider (W3C trace context, async-local context, batched OTLP/HTTP export)
 * when an OTLP endpoint is configured; otherwise tracing stays the OpenTelemetry API's no-op. One provider
 * per process: a second stack in the same process shares it.
 */
export function startTracing(config: AirlockConfig, log: Logger): Tracing {
  const url = otlpTracesUrl(config);
  if (!url) return { flush: async () => {}, shutdown: async () => {} };
  if (!active) {
    const tlog = log.child({ component: 'otel' });
    diag.setLogger({ error: (m, ...a) => tlog.warn({ detail: a }, m), warn: (m, ...a) => tlog.warn({ detail: a }, m), info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    const resource = Resource.default().merge(new Resource({ [ATTR_SERVICE_NAME]: config.observability.serviceName, [ATTR_SERVICE_VERSION]: VERSION }));
    const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url, headers: config.observability.otlp?.headers ?? {} }));
    const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
    provider.register();
    active = { url, provider, workflowSink: makeWorkflowExporter(processor, resource), users: 0 };
    tlog.info({ url }, 'exporting traces over OTLP/HTTP');
  }
  const mine = active;
  mine.users++;
  let stopped = false;
  return {
    url,
    flush: () => mine.provider.forceFlush(),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      if (--mine.users > 0) return void (await mine.provider.forceFlush());
      if (active === mine) active = undefined;
      await mine.provider.shutdown();
      // Let a later stack in this process install its own provider.
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };
}

/** Exports every ended span of the process's tracer provider, if any (tests, before asserting on spans). */
export async function flushTracing(): Promise<void> {
  await active?.provider.forceFlush();
}

/** Client interceptors that start a span per workflow start, update, signal or query and pass its context in headers. */
export function clientTracingInterceptors(): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/** Activity interceptors: a `RunActivity:<type>` span under the workflow's `StartActivity` span; trace ids in activity logs. */
export function tracingActivityInterceptors(ctx: ActivityContext): ActivityInterceptors {
  return { inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) };
}

/**
 * The `exporter` sink the workflow interceptors send their spans to. Always registered, because the
 * workflow bundle always carries the interceptors; bound late, so spans go wherever tracing currently
 * exports, or nowhere.
 */
export function workflowTracingSinks(): InjectedSinks<OpenTelemetrySinks> {
  return {
    exporter: {
      export: {
        // Temporal's exporter copies the info it is given onto every span: give it the execution's
        // identity only, not its memo and search attributes (pending approvals carry tool args).
        fn: (info, spans) => {
          const { workflowId, runId, workflowType, namespace, taskQueue, attempt } = info;
          return active?.workflowSink.export.fn({ workflowId, runId, workflowType, namespace, taskQueue, attempt } as WorkflowInfo, spans);
        },
      },
    },
  };
}

/**
 * Runs `fn` in a child span of the active context. A failure marks the span with the error's type only:
 * messages can carry arguments or data, which never go into spans.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  return trace.getTracer('airlock').startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      const type = (err as { type?: unknown }).type;
      span.setAttribute(ATTR_ERROR_TYPE, typeof type === 'string' ? type : ((err as Error)?.name ?? 'Error'));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}
