// An agent's own graph talks to its model as a LangChain conversation. This module reads that
// conversation the way Airlock's rules need it: which servers' results it holds (classification),
// what the provider sees (the same sanitizing and delimiting as the built-in planner), the steps the
// embedded planner follows, and the tools offered as the graph sees them. Pure functions.
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage, type MessageContent } from '@langchain/core/messages';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { TOOL_NAME_SEPARATOR, type AgentToolDef, type ChatToolDef } from '../agent/types.js';
import type { AgentConfig } from '../config/schema.js';
import { sanitizeJson, sanitizeText } from '../core/sanitize.js';
import { classifyTool, IDEMPOTENCY_KEY_FIELD } from '../core/tools.js';
import type { Json, JsonObject, PlanOutput, StepView } from '../core/types.js';
import { delimitToolResult, textOf, UNTRUSTED_DATA_NOTICE } from './chat.js';
import type { ChatResult } from './types.js';

/** `server__tool` → its parts; undefined for a name without the separator (a tool of the graph's own). */
export function splitToolName(name: string): { server: string; tool: string } | undefined {
  const i = name.indexOf(TOOL_NAME_SEPARATOR);
  if (i <= 0 || i + TOOL_NAME_SEPARATOR.length >= name.length) return undefined;
  return { server: name.slice(0, i), tool: name.slice(i + TOOL_NAME_SEPARATOR.length) };
}

/** A tool result of the conversation: the call it answers and the tool that produced it. */
export interface ToolResultEntry {
  message: ToolMessage;
  /** The tool's name: the message's own `name`, else the name in the AI message's tool call it answers. */
  name: string;
  call?: { id?: string; name: string; args: Record<string, unknown> };
  isError: boolean;
  /** The content as JSON when it is JSON, else its text. */
  data: Json;
}

/** Every tool message of the conversation, with the tool it came from. */
export function toolResults(messages: BaseMessage[]): ToolResultEntry[] {
  const calls = new Map<string, { id?: string; name: string; args: Record<string, unknown> }>();
  const out: ToolResultEntry[] = [];
  for (const m of messages) {
    if (AIMessage.isInstance(m)) for (const c of m.tool_calls ?? []) if (c.id) calls.set(c.id, c);
    if (ToolMessage.isInstance(m)) {
      const call = calls.get(m.tool_call_id);
      out.push({ message: m, name: m.name || call?.name || '', call, isError: m.status === 'error', data: parseContent(m.content) });
    }
  }
  return out;
}

/** Servers whose results the conversation holds: what its classification is made of. */
export function serversSeen(messages: BaseMessage[]): string[] {
  return [...new Set(toolResults(messages).flatMap((r) => splitToolName(r.name)?.server ?? []))];
}

/** How many answers the model has given so far: the step a call is recorded under. */
export function modelTurns(messages: BaseMessage[]): number {
  return messages.filter((m) => AIMessage.isInstance(m)).length;
}

/**
 * What a provider sees: the agent's system prompt (unless the graph begins with its own) with the
 * untrusted-data notice, every text stripped of invisible characters, and each tool result as
 * delimited JSON data (`<tool-result …>`, references to stored values resolved), as the built-in
 * planner sends them. A repair asks again, saying what was wrong.
 */
export function providerMessages(agent: AgentConfig, messages: BaseMessage[], resolve: (v: Json) => Json, repair?: string): BaseMessage[] {
  const out: BaseMessage[] = [];
  if (!(messages[0] && SystemMessage.isInstance(messages[0]))) out.push(new SystemMessage(`${sanitizeText(agent.systemPrompt)}\n\n${UNTRUSTED_DATA_NOTICE}`));
  const results = new Map(toolResults(messages).map((r, i) => [r.message, { ...r, index: i }]));
  messages.forEach((m, i) => {
    if (SystemMessage.isInstance(m)) {
      const text = sanitizeText(textOf(m.content));
      out.push(new SystemMessage(i === 0 ? `${text}\n\n${UNTRUSTED_DATA_NOTICE}` : text));
    } else if (HumanMessage.isInstance(m)) out.push(new HumanMessage({ content: sanitizeContent(m.content) }));
    else if (AIMessage.isInstance(m))
      out.push(new AIMessage({ content: sanitizeContent(m.content), tool_calls: (m.tool_calls ?? []).map((c) => ({ ...c, name: sanitizeText(c.name), args: sanitizeJson(c.args) })) }));
    else if (ToolMessage.isInstance(m)) {
      const r = results.get(m)!;
      const { server, tool } = splitToolName(r.name) ?? { server: '', tool: r.name };
      out.push(
        new ToolMessage({
          tool_call_id: m.tool_call_id,
          ...(m.name ? { name: sanitizeText(m.name) } : {}),
          content: delimitToolResult(r.index, server, tool, { isError: r.isError, data: resolve(r.data) }),
        }),
      );
    } else out.push(m);
  });
  if (repair) {
    out.push(
      new HumanMessage(
        `Your previous answer could not be used: ${sanitizeText(repair)}. Answer again, calling only the offered tools with JSON object arguments, or with a final answer and no tool call.`,
      ),
    );
  }
  return out;
}

/** The conversation's completed tool calls as plan steps (each AI tool call with the tool message that answered it), for the embedded planner. */
export function stepsOf(messages: BaseMessage[], resolve: (v: Json) => Json): StepView[] {
  const byCall = new Map(toolResults(messages).map((r) => [r.message.tool_call_id, r]));
  const steps: StepView[] = [];
  for (const m of messages) {
    if (!AIMessage.isInstance(m)) continue;
    for (const c of m.tool_calls ?? []) {
      const r = c.id ? byCall.get(c.id) : undefined;
      if (!r) continue;
      const parts = splitToolName(c.name);
      steps.push({
        index: steps.length,
        tool: parts ? `${parts.server}.${parts.tool}` : c.name,
        args: c.args as JsonObject,
        status: 'completed',
        result: { isError: r.isError, data: resolve(r.data) },
      });
    }
  }
  return steps;
}

/** The run's input when the caller did not pass it: the first human message, read as JSON (after an optional label line). */
export function inputOf(messages: BaseMessage[]): JsonObject {
  const first = messages.find((m) => HumanMessage.isInstance(m));
  if (!first) return {};
  const text = textOf(first.content);
  for (const candidate of [text, text.slice(Math.max(0, text.indexOf('{')))]) {
    try {
      const v = JSON.parse(candidate) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as JsonObject;
    } catch {
      // not JSON: try the next reading
    }
  }
  return {};
}

/** The embedded planner's answer as a chat answer: a call gets a deterministic id from its step. A `fail` is the caller's to raise. */
export function planAsChat(output: Exclude<PlanOutput, { kind: 'fail' }>, step: number): ChatResult['message'] {
  if (output.kind === 'final') return { content: JSON.stringify(output.answer), toolCalls: [] };
  const { server, tool, args } = output.call;
  return { content: output.thought ?? '', toolCalls: [{ id: `call_${step}`, name: `${server}${TOOL_NAME_SEPARATOR}${tool}`, args }] };
}

/** The first tool call that names no offered tool, if any. */
export function unofferedCall(calls: ChatResult['message']['toolCalls'], tools: ChatToolDef[]): ChatResult['message']['toolCalls'][number] | undefined {
  const offered = new Set(tools.map((t) => t.function.name));
  return calls.find((c) => !offered.has(c.name));
}

/** A pinned MCP tool as the graph sees it: `server__tool`, its description, its schema without the fields Airlock fills, and whether it only reads. */
export function agentToolDef(server: string, tool: Tool): AgentToolDef {
  const schema = { ...(tool.inputSchema ?? { type: 'object' }) } as Record<string, unknown>;
  if (schema.properties && typeof schema.properties === 'object') {
    const { [IDEMPOTENCY_KEY_FIELD]: _filled, ...properties } = schema.properties as Record<string, unknown>;
    schema.properties = properties;
  }
  if (Array.isArray(schema.required)) schema.required = (schema.required as unknown[]).filter((f) => f !== IDEMPOTENCY_KEY_FIELD);
  return {
    name: `${server}${TOOL_NAME_SEPARATOR}${tool.name}`,
    server,
    tool: tool.name,
    description: tool.description ?? '',
    inputSchema: schema,
    readOnly: classifyTool(tool.annotations).readOnly,
  };
}

function parseContent(content: MessageContent): Json {
  const text = textOf(content as AIMessage['content']);
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

function sanitizeContent(content: MessageContent): MessageContent {
  return typeof content === 'string' ? sanitizeText(content) : sanitizeJson(content);
}
