// The refund assistant as LangGraph's prebuilt ReAct agent: the model decides which tool to call next, and
// Airlock governs every call (policy, approvals, pins, audit). With no model provider configured, the
// embedded planner answers for the model (following the agent's playbook), so it runs without an API key.
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { defineAgent } from 'airlock/agent';

export default defineAgent(
  (ctx) =>
    createReactAgent({
      llm: ctx.model(),
      tools: ctx.tools(),
      prompt: 'You resolve billing disputes. Check the account and the invoice before refunding, never refund more than was charged, and note what you did.',
    }),
  {
    initialState: (input) => ({ messages: [{ role: 'user', content: JSON.stringify(input) }] }),
  },
);
