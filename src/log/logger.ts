import { trace } from '@opentelemetry/api';
import { asyncLocalStorage as activityContext } from '@temporalio/activity';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Correlation ids of the code that logs: inside an activity, its workflow (the workflow id is the Airlock
 * run id) and activity; inside a recording span, the trace and span ids.
 */
function correlation(): Record<string, string> {
  const out: Record<string, string> = {};
  const activity = activityContext.getStore();
  if (activity) {
    const i = activity.info;
    if (i.workflowExecution) Object.assign(out, { workflowId: i.workflowExecution.workflowId, workflowRunId: i.workflowExecution.runId });
    out.activityType = i.activityType;
  }
  const span = trace.getActiveSpan();
  if (span?.isRecording()) Object.assign(out, { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
  return out;
}

/** The one root logger; everything else uses `logger.child({ ... })`. */
export function createLogger(level: string = 'info', name = 'airlock', destination?: pino.DestinationStream): Logger {
  const opts = { name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, mixin: correlation };
  return destination ? pino(opts, destination) : pino(opts);
}
