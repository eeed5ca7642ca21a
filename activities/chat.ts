// The two activities behind an agent's own LangGraph graph: `agentTools` (what `ctx.tools()` is built
// from: pinned, sanitized definitions of the agent's approved servers) and `chat` (each call of
// `ctx.model()`: one model turn under the same governance as `plan`: classification, route,
// clearance, budget, the `model.routed` record, and failures the workflow falls back or repairs on).
import { Context } from '@temporalio/activity';
import { mapStoredMessagesToChatMessages } from '@langchain/core/messages';
import type { AgentToolDef, ChatInput, ChatOutput } from '../src/agent/types.js';
import { ErrorCode } from '../src/core/errors.js';
import { sanitizeJson, sanitizeText } from '../src/core/sanitize.js';
import type { Json } from '../src/core/types.js';
import { agentToolDef, inputOf, modelTurns, planAsChat, providerMessages, serversSeen, stepsOf, unofferedCall } from '../src/models/agentChat.js';
import type { ChatResult } from '../src/models/types.js';
import { runClassification } from '../src/models/router.js';
import { failure } from '../workflows/failure.js';
import { createModelGovernance, type ModelDeps } from './model.js';

export function createChatActivities(deps: ModelDeps) {
  const { config, writer, blobs } = deps;
  const gov = createModelGovernance(deps);
  const resolve = (v: Json): Json => blobs.resolve(v);

  /** The tools the agent's graph may offer its model: `server__tool`, pinned and sanitized, without the idempotency key. */
  async function agentTools({ agent }: { agent: string }): Promise<AgentToolDef[]> {
    const tools = await gov.offeredTools(gov.agentOf(agent));
    return tools.map(({ server, tool }) => agentToolDef(server, tool));
  }

  /** One model turn of an agent's graph. */
  /** Without `input`, the embedded planner reads the first human message as the run's input (JSON). */
  async function chat(req: ChatInput): Promise<ChatOutput> {
    const { runId, agent: agentName, identity, audit: queued, node, exclude, repair } = req;
    const agent = gov.agentOf(agentName);
    await writer.write(queued ?? []);

    const messages = mapStoredMessagesToChatMessages(req.messages);
    const classification = runClassification(config, agentName, serversSeen(messages));
    const { choice, planner } = gov.choose({ task: 'plan', agent: agentName, classification, exclude });
    await gov.checkBudget(agentName);
    const record = gov.recorder({ runId, agent: agentName, identity, choice, classification, step: modelTurns(messages), ...(node ? { node } : {}) });
    const signal = Context.current().cancellationSignal;
    const offered = sanitizeJson(req.tools);

    let answer: ChatResult;
    let failed: string | undefined;
    // Heartbeats while the model answers: a worker lost mid-call is noticed in seconds (CHAT_CALL), not at the call's timeout.
    const beat = setInterval(() => Context.current().heartbeat(), 2_000);
    try {
      if (planner.chat) {
        // A provider: the conversation as the graph built it, sanitized, results delimited as data.
        answer = await planner.chat({ messages: providerMessages(agent, messages, resolve, repair), tools: offered }, { signal });
      } else {
        // The embedded planner follows the playbook over the steps the conversation completed.
        const steps = stepsOf(messages, resolve);
        const { output, usage, model } = await planner.plan({ runId, agentName, agent, input: req.input ?? inputOf(messages), steps, tools: [] }, { signal });
        if (output.kind === 'fail') failed = output.reason;
        // A large final answer is stored aside, as `plan` does: history carries the reference.
        const next = output.kind === 'final' ? { ...output, answer: blobs.keep(output.answer) } : output;
        answer = { message: next.kind === 'fail' ? { content: '', toolCalls: [] } : planAsChat(next, steps.length), usage, model };
      }
    } catch (err) {
      throw await gov.modelFailure(err, choice, record);
    } finally {
      clearInterval(beat);
    }
    // A call to a tool the model was not offered is a malformed answer (repairable), not a policy question.
    // (The embedded planner follows the playbook the operators wrote; a tool the graph did not bind fails in the graph.)
    const unknown = planner.chat ? unofferedCall(answer.message.toolCalls, offered) : undefined;
    if (unknown) {
      const name = sanitizeText(unknown.name);
      const names = offered.map((t) => t.function.name).join(', ');
      throw await gov.invalidOutput(`unknown tool ${name}`, `the model called ${name}, which is not among the tools offered (${names || 'none'})`, choice, record);
    }
    const model = await gov.succeeded(answer, choice, classification, record);
    if (failed !== undefined) throw failure(ErrorCode.AgentFailed, failed);
    return { message: answer.message, model };
  }

  return { agentTools, chat };
}
