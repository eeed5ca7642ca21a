// The agent run: a LangGraph plan executed inside a Temporal workflow.
// plan → govern → [approve] → act → plan … (act's result is what the next plan observes) until the planner is done or the step limit.
// Temporal history is the only source of truth; the graph has no checkpointer.
import './shim.js';
import './langchainContext.js';
import { Annotation, Command, END, START, StateGraph } from '@langchain/langgraph';
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { ErrorCode } from '../src/core/errors.js';
import type { Decision, Json, RunInput, RunView } from '../src/core/types.js';
import { agentDefinition } from './agents.js';
import { decideApprovalUpdate, getRunQuery, provideInputUpdate } from './definitions.js';
import { failure } from './failure.js';
import { createGovernance, LOCAL_CONTROL_PATCH, type Governance } from './governance.js';
import { EMBEDDED_PLAN_LOCAL, MODEL_CALL } from './presets.js';
import { RunState } from './runState.js';
import { runUserGraph } from './userGraph.js';

const { plan } = proxyActivities<Activities>(MODEL_CALL);
const { plan: planLocally } = proxyLocalActivities<Activities>(EMBEDDED_PLAN_LOCAL);

export type Outcome =
  | { status: 'completed'; result: Json }
  | { status: 'rejected'; result: Json }
  | { status: 'failed'; type: string; message: string }
  /** The run is long: it continues in a fresh workflow run (history stays small). */
  | { status: 'continue' };

const GraphState = Annotation.Root({
  decision: Annotation<Decision | null>({ reducer: (_a, b) => b, default: () => null }),
  outcome: Annotation<Outcome | null>({ reducer: (_a, b) => b, default: () => null }),
});
type S = typeof GraphState.State;

/** The built-in loop of YAML agents: plan → govern → [approve] → act → plan …, each call through the one control path. */
function buildGraph(run: RunState, gov: Governance) {
  const { agent, runId } = run.input;
  const failed = (type: string, message: string) => new Command({ goto: END, update: { outcome: { status: 'failed', type, message } } });

  const nextStep = () =>
    gov.withModelFallback(
      async ({ exclude, repair, purpose }) => {
        const r = await gov.carryingAudit((events) => {
          const args = { runId, agent: agent.name, input: run.input.input, steps: run.steps, identity: run.identity, audit: events, exclude, ...(repair ? { repair } : {}) };
          // The embedded planner answers in microseconds: a local activity, no task-queue round trip.
          return agent.localPlanning && patched(LOCAL_CONTROL_PATCH)
            ? planLocally.executeWithOptions({ ...EMBEDDED_PLAN_LOCAL, summary: purpose }, [args])
            : plan.executeWithOptions({ ...MODEL_CALL, summary: purpose }, [args]);
        });
        run.addUsage(r.model);
        return r;
      },
      `plan step ${run.steps.length + 1}`,
    );

  const planNode = async () => {
    if (run.steps.length >= agent.maxSteps) return failed(ErrorCode.StepLimitExceeded, `the agent did not finish within ${agent.maxSteps} steps`);
    const over = run.overBudget();
    if (over) return failed(ErrorCode.BudgetExceeded, over);
    if (run.shouldContinueAsNew()) return new Command({ goto: END, update: { outcome: { status: 'continue' } } });
    const { next, model } = await nextStep();
    if (next.kind === 'fail') return failed(ErrorCode.AgentFailed, next.reason);
    if (next.kind === 'final') {
      run.finalModel = model;
      return new Command({ goto: END, update: { outcome: { status: 'completed', result: next.answer } } });
    }
    const call = next.call;
    const step = run.addStep({ tool: `${call.server}.${call.tool}`, args: call.args, status: 'proposed' });
    step.model = model;
    return new Command({ goto: 'govern', update: { decision: null } });
  };

  const governNode = async () => {
    const step = run.current;
    const decision = await gov.govern(step);
    if (decision.outcome === 'deny') return failed(ErrorCode.PolicyDenied, `${step.tool} denied: ${decision.reason}`);
    return new Command({ goto: decision.outcome === 'require_approval' ? 'approve' : 'act', update: { decision } });
  };

  const approveNode = async () => {
    const step = run.current;
    const a = await gov.awaitApproval(step);
    if (a.approved) return new Command({ goto: 'act' });
    return new Command({ goto: END, update: { outcome: { status: 'rejected', result: { reason: a.reason, approvalId: a.approvalId } } } });
  };

  const actNode = async (state: S) => {
    const step = run.current;
    const r = await gov.execute(step, gov.decisionFor(step, state.decision!));
    return r.ok ? new Command({ goto: 'plan' }) : failed(r.type, r.message);
  };

  return new StateGraph(GraphState)
    .addNode('plan', planNode, { ends: ['govern', END] })
    .addNode('govern', governNode, { ends: ['act', 'approve', END] })
    .addNode('approve', approveNode, { ends: ['act', END] })
    .addNode('act', actNode, { ends: ['plan', END] })
    .addEdge(START, 'plan')
    .compile();
}

export async function agentRunWorkflow(input: RunInput): Promise<RunView> {
  const run = new RunState(input);
  setHandler(getRunQuery, () => run.view());
  const gov = createGovernance(run);
  const graph = buildGraph(run, gov);
  setHandler(decideApprovalUpdate, async (d) => (d.args ? gov.editApproval(d) : run.vote(d)), { validator: (d) => run.validateDecision(d) });
  setHandler(provideInputUpdate, (d) => run.answerInput(d), { validator: (d) => run.validateAnswer(d) });
  if (!input.carried)
    run.note('run.started', {
      data: { inputDigest: input.inputDigest ?? null, phase: input.agent.phase, requester: input.principal.subject, groups: run.identity.groups },
    });
  run.publish();

  let outcome: Outcome;
  try {
    if (input.agent.graph) {
      // An agent written as a graph: its module's graph, registered in this worker's bundle.
      const def = agentDefinition(input.agent.name);
      if (!def) throw failure(ErrorCode.AgentFailed, `agent ${input.agent.name} is configured with a graph, but this worker's bundle does not carry it (restart the worker with the same config)`);
      outcome = await runUserGraph(run, gov, def);
    } else {
      const final = await graph.invoke({}, { recursionLimit: input.agent.maxSteps * 5 + 10 });
      outcome = final.outcome ?? { status: 'failed', type: ErrorCode.PlannerFailed, message: 'the plan ended without an outcome' };
    }
  } catch (err) {
    if (isCancellation(err) || CancellationScope.current().consideredCancelled) {
      await CancellationScope.nonCancellable(async () => {
        run.finish('cancelled', null);
        await gov.flushAudit();
      });
      throw err;
    }
    const f = err instanceof ApplicationFailure ? err : err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
    outcome = { status: 'failed', type: f?.type ?? ErrorCode.InternalError, message: (f ?? (err as Error)).message };
  }

  await condition(allHandlersFinished);
  if (outcome.status === 'continue') {
    await gov.flushAudit();
    return await continueAsNew<typeof agentRunWorkflow>({ ...input, carried: run.carry() });
  }
  if (outcome.status === 'failed') {
    run.finish('failed', null, { type: outcome.type, message: outcome.message });
    await gov.flushAudit();
    throw ApplicationFailure.nonRetryable(outcome.message, outcome.type, run.view());
  }
  run.finish(outcome.status, outcome.result);
  await gov.flushAudit();
  return run.view();
}
