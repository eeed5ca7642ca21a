import { Context } from '@temporalio/activity';
import { ErrorCode as ErrorCodeMcp, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Json, ToolCall, ToolResultView } from '../src/core/types.js';
import { RegistryError, ServerNotFoundError, type McpPool } from '../src/registry/pool.js';
import { sanitizeJson } from '../src/core/sanitize.js';
import { digestOf } from '../src/core/canonical.js';
import { ErrorCode } from '../src/core/errors.js';
import { failure } from '../workflows/failure.js';
import type { AuditEventInput } from '../src/audit/types.js';
import type { AuditWriter } from './audit.js';
import type { BlobStore } from '../src/blobs/store.js';

export interface CallToolInput {
  runId: string;
  step: number;
  call: ToolCall;
  /** The run's queued audit events (the approval's decision among them): written before the call, or no call. */
  audit?: AuditEventInput[];
  /** False for a write that is not safe to repeat: a connection lost after it was sent leaves its outcome unknown. */
  idempotent?: boolean;
}

/** The MCP client's answer when the connection closed, or the request timed out, with the request already sent. */
const LOST_AFTER_SEND = new Set<number>([ErrorCodeMcp.ConnectionClosed, ErrorCodeMcp.RequestTimeout]);

export function createMcpActivities({ pool, writer, blobs }: { pool: McpPool; writer: AuditWriter; blobs: BlobStore }) {
  async function callTool({ call, audit, idempotent }: CallToolInput): Promise<ToolResultView> {
    try {
      await writer.write(audit ?? []);
    } catch (err) {
      // Fail closed, at once: a call whose authorization cannot be recorded is not made.
      throw failure(ErrorCode.UnrecordedCall, `${(err as Error).message}; the tool was not called`);
    }
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 2_000);
    try {
      const started = performance.now();
      const res = await pool.callTool(call.server, call.tool, call.args, ctx.cancellationSignal);
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      const view = toView(res);
      // Large results stay out of workflow history: it carries a reference, the planner gets the value.
      return { isError: view.isError, data: blobs.keep(view.data), digest: digestOf(view.data), durationMs };
    } catch (err) {
      if (err instanceof ServerNotFoundError) throw failure(ErrorCode.ServerNotFound, err.message);
      if (err instanceof RegistryError) throw failure(ErrorCode.RegistryRefused, err.message);
      // Sent, then the answer was lost: repeating a write that is not idempotent could do it twice, so say so instead.
      if (idempotent === false && err instanceof McpError && LOST_AFTER_SEND.has(err.code))
        throw failure(ErrorCode.OutcomeUnknown, `${call.server}.${call.tool} was sent, then the connection was lost (${err.message}): it may or may not have run`);
      throw err;
    } finally {
      clearInterval(beat);
    }
  }
  return { callTool };
}

/** A tool result with isError is data for the planner, not a failure of the activity. */
export function toView(res: CallToolResult): ToolResultView {
  let data: Json;
  if (res.structuredContent) data = res.structuredContent as Json;
  else {
    const text = res.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
    try {
      data = JSON.parse(text) as Json;
    } catch {
      data = text;
    }
  }
  // Invisible and deceptive characters never reach the model or history (smuggled instructions).
  return { isError: res.isError === true, data: sanitizeJson(data) };
}
