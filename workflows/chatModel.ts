// `ctx.model()`: a LangChain chat model whose every call is Airlock's model activity (`chat`): routing,
// clearance, budgets, fallbacks, repair of unusable output and the audit record all apply, and each
// attempt is an activity in history. What crosses the boundary is LangChain's stored message form.
import { BaseChatModel, type BaseChatModelCallOptions, type BindToolsInput } from '@langchain/core/language_models/chat_models';
import { AIMessage, mapChatMessagesToStoredMessages, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { getConfig, GraphDrained } from '@langchain/langgraph';
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ChatToolDef } from '../src/agent/types.js';
import { ErrorCode } from '../src/core/errors.js';
import type { Governance } from './governance.js';
import { CHAT_CALL } from './presets.js';
import type { RunState } from './runState.js';

const { chat } = proxyActivities<Activities>(CHAT_CALL);

export interface AirlockChatCallOptions extends BaseChatModelCallOptions {
  tools?: ChatToolDef[];
}

/** The graph node running now (LangGraph puts it in the runnable config's metadata). */
export function currentNode(): string | undefined {
  try {
    const node = getConfig()?.metadata?.langgraph_node;
    return typeof node === 'string' ? node : undefined;
  } catch {
    return undefined; // called outside a graph run
  }
}

/** Ends the run from inside the graph: the outcome is kept on the run, and the graph stops at once. */
export function stopRun(run: RunState, outcome: NonNullable<RunState['stopped']>): never {
  run.stopped ??= outcome;
  throw new GraphDrained(`airlock: ${outcome.status}`);
}

export class AirlockChatModel extends BaseChatModel<AirlockChatCallOptions> {
  constructor(
    private readonly run: RunState,
    private readonly gov: Governance,
  ) {
    super({});
  }

  _llmType(): string {
    return 'airlock';
  }

  override bindTools(tools: BindToolsInput[], kwargs?: Partial<AirlockChatCallOptions>) {
    return this.withConfig({ ...kwargs, tools: tools.map((t) => convertToOpenAITool(t) as ChatToolDef) });
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    const { run, gov } = this;
    const over = run.overBudget();
    if (over) stopRun(run, { status: 'failed', type: ErrorCode.BudgetExceeded, message: over });
    const node = currentNode();
    const { runId, agent } = run.input;
    const out = await gov.withModelFallback(
      async ({ exclude, repair, purpose }) => {
        const r = await gov.carryingAudit((events) =>
          chat.executeWithOptions({ ...CHAT_CALL, summary: purpose }, [
            {
              runId,
              agent: agent.name,
              identity: run.identity,
              audit: events,
              input: run.input.input,
              messages: mapChatMessagesToStoredMessages(messages),
              tools: options.tools ?? [],
              ...(node ? { node } : {}),
              exclude,
              ...(repair ? { repair } : {}),
            },
          ]),
        );
        run.addUsage(r.model);
        return r;
      },
      `model call ${run.usage.calls + 1}${node ? ` in ${node}` : ''}`,
    );
    run.finalModel = out.model;
    const message = new AIMessage({
      content: out.message.content,
      tool_calls: out.message.toolCalls.map((tc) => ({ id: tc.id, name: tc.name, args: tc.args, type: 'tool_call' as const })),
      usage_metadata: { input_tokens: out.model.inputTokens, output_tokens: out.model.outputTokens, total_tokens: out.model.inputTokens + out.model.outputTokens },
      response_metadata: { model: out.model.model, provider: out.model.provider },
    });
    return { generations: [{ text: out.message.content, message }] };
  }
}
