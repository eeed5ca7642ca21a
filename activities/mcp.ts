import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Json, ToolCall, ToolResultView } from '../workflows/types.js';
import { RegistryError, ServerNotFoundError, type McpPool } from '../src/registry/pool.js';
import { sanitizeJson } from '../src/registry/scanner.js';

export interface CallToolInput {
  runId: string;
  step: number;
  call: ToolCall;
}

/** Results larger than this are truncated before they enter workflow history. */
export const MAX_RESULT_BYTES = 256 * 1024;

export function createMcpActivities({ pool }: { pool: McpPool }) {
  async function callTool({ call }: CallToolInput): Promise<ToolResultView> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 2_000);
    try {
      const res = await pool.callTool(call.server, call.tool, call.args, ctx.cancellationSignal);
      return toView(res);
    } catch (err) {
      if (err instanceof ServerNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'ServerNotFound');
      if (err instanceof RegistryError) throw ApplicationFailure.nonRetryable(err.message, 'RegistryRefused');
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
  const size = Buffer.byteLength(JSON.stringify(data));
  if (size > MAX_RESULT_BYTES) data = { truncated: true, bytes: size, preview: JSON.stringify(data).slice(0, 4096) };
  // Invisible and deceptive characters never reach the model or history (smuggled instructions).
  return { isError: res.isError === true, data: sanitizeJson(data) };
}
