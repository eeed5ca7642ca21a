// Tool-call, policy and MCP-error metrics, recorded around the worker's activities by an activity
// interceptor: the activity code stays free of metrics, and nothing here can change what it returns.
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import type { CallToolInput } from '../../activities/mcp.js';
import type { Decision, ToolResultView } from '../core/types.js';
import { mcpErrors, policyDecisions, toolCallDuration, toolCalls } from './metrics.js';

/** The `kind` label of airlock_mcp_errors_total for a failed callTool attempt. */
export function mcpErrorKind(err: unknown, cancelled = false): string {
  if (cancelled) return 'cancelled';
  if (err instanceof ApplicationFailure && err.type) return err.type; // RegistryRefused, ServerNotFound, …
  if (err instanceof McpError) return err.code === ErrorCode.RequestTimeout ? 'timeout' : 'protocol';
  return 'other';
}

export function activityMetricsInterceptors(ctx: ActivityContext): ActivityInterceptors {
  return {
    inbound: {
      async execute(input, next) {
        switch (ctx.info.activityType) {
          case 'decide': {
            try {
              const decision = (await next(input)) as Decision;
              policyDecisions.inc({ outcome: decision.outcome });
              return decision;
            } catch (err) {
              policyDecisions.inc({ outcome: 'error' });
              throw err;
            }
          }
          case 'callTool': {
            const call = (input.args[0] as Partial<CallToolInput> | undefined)?.call;
            const labels = { server: String(call?.server ?? 'unknown'), tool: String(call?.tool ?? 'unknown') };
            const started = performance.now();
            let outcome = 'failure';
            try {
              const result = (await next(input)) as ToolResultView;
              outcome = result.isError ? 'tool_error' : 'success';
              return result;
            } catch (err) {
              mcpErrors.inc({ server: labels.server, kind: mcpErrorKind(err, ctx.cancellationSignal.aborted) });
              throw err;
            } finally {
              toolCalls.inc({ ...labels, outcome });
              toolCallDuration.observe({ ...labels, outcome }, (performance.now() - started) / 1000);
            }
          }
          default:
            return next(input);
        }
      },
    },
  };
}
