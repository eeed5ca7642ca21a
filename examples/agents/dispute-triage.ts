// Triage of a disputed charge, as a hand-written LangGraph graph. Two reads run in parallel (Send), a model
// node classifies the dispute, a conditional edge takes the refund path or escalates to a person, and when the
// requester gave no amount the graph asks them (interrupt) before refunding. Every tool call is governed: the
// refund goes through the same Cedar refund policy (and approvals) as the refund assistant's.
import { Annotation, END, interrupt, MessagesAnnotation, Send, START, StateGraph } from '@langchain/langgraph';
import { defineAgent } from 'airlock/agent';

type Invoice = { invoiceId: string; amount: number; currency: string; refundableAmount: number };
const State = Annotation.Root({
  ...MessagesAnnotation.spec,
  customerId: Annotation<string>(),
  invoiceId: Annotation<string>(),
  message: Annotation<string>(),
  amount: Annotation<number | undefined>(),
  reads: Annotation<Record<string, unknown>>({ reducer: (a, b) => ({ ...a, ...b }), default: () => ({}) }),
  category: Annotation<'refund' | 'escalate'>(),
  outcome: Annotation<unknown>(),
});
type S = typeof State.State;

/** A governed tool's result; a denial or a failed call is an error result, which ends this graph's run. */
const json = (m: { content: unknown; status?: string }) => {
  if (m.status === 'error') throw new Error(String(m.content));
  return JSON.parse(String(m.content)) as unknown;
};

export default defineAgent((ctx) => {
  const tool = (name: string) => ctx.tools({ names: [name] })[0]!;
  const model = ctx.model();
  const invoice = (s: S) => s.reads.billing__get_invoice as Invoice;

  const classify = async (s: S) => {
    const answer = await model.invoke([
      {
        role: 'system',
        content: 'Classify the disputed charge. Answer JSON {"category":"refund"|"escalate","why":"..."}: refund a clear duplicate or error within what is refundable, escalate anything else.',
      },
      { role: 'user', content: JSON.stringify({ dispute: s.message, amount: s.amount ?? null, invoice: invoice(s), account: s.reads.crm__get_account }) },
    ]);
    let category: S['category'] | undefined;
    try {
      category = (JSON.parse(String(answer.content)) as { category?: S['category'] }).category;
    } catch {
      /* not JSON: the rule below decides */
    }
    // The model proposes; the graph keeps the refund path to what the invoice can still refund.
    if (category !== 'refund' && category !== 'escalate') category = invoice(s).refundableAmount > 0 ? 'refund' : 'escalate';
    if (s.amount !== undefined && s.amount > invoice(s).refundableAmount) category = 'escalate';
    return { messages: [answer], category };
  };

  return new StateGraph(State)
    .addNode('read', async (r: { tool: string; args: Record<string, string> }) => ({ reads: { [r.tool]: json(await tool(r.tool).invoke(r.args)) } }))
    .addNode('classify', classify)
    .addNode('ask', (s: S) => ({ amount: Number(interrupt({ question: `How much of ${s.invoiceId} should be refunded? At most ${invoice(s).refundableAmount} ${invoice(s).currency}.` })) }))
    .addNode('refund', async (s: S) => {
      const args = { invoiceId: s.invoiceId, amount: s.amount!, currency: invoice(s).currency, reason: s.message };
      return { outcome: json(await tool('billing__issue_refund').invoke(args)) };
    })
    .addNode('escalate', async (s: S) => {
      const args = { accountId: s.customerId, subject: `Disputed charge on ${s.invoiceId}`, body: s.message, priority: 'high' };
      return { outcome: json(await tool('ticketing__create_ticket').invoke(args)) };
    })
    .addConditionalEdges(START, (s: S) => [
      new Send('read', { tool: 'crm__get_account', args: { accountId: s.customerId } }),
      new Send('read', { tool: 'billing__get_invoice', args: { invoiceId: s.invoiceId } }),
    ])
    .addEdge('read', 'classify')
    .addConditionalEdges('classify', (s: S) => (s.category === 'escalate' ? 'escalate' : s.amount === undefined ? 'ask' : 'refund'), ['escalate', 'ask', 'refund'])
    .addEdge('ask', 'refund')
    .addEdge('refund', END)
    .addEdge('escalate', END)
    .compile();
});
