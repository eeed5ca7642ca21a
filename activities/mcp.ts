import { Context } from '@temporalio/activity';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
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
}

export function createMcpActivities({ pool, writer, blobs }: { pool: McpPool; writer: AuditWriter; blobs: BlobStore }) {
  async function callTool({ call, audit }: CallToolInput): Promise<ToolResultView> {
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
