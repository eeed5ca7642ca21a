// The agent run: a LangGraph plan executed inside a Temporal workflow.
// plan → govern → [approve] → act → observe → plan … until the planner is done or the step limit.
// Temporal history is the only source of truth; the graph has no checkpointer.
import './shim.js';
import { Annotation, Command, END, START, StateGraph } from '@langchain/langgraph';
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { decideApprovalUpdate, getRunQuery } from './definitions.js';
import { CONTROL_DECISION, MODEL_CALL, TOOL_CALL_ONCE, TOOL_CALL_RETRYING } from './presets.js';
import { RunState } from './runState.js';
import { ErrorTypes, type Decision, type Json, type RunInput, type RunView } from './types.js';

const { plan } = proxyActivities<Activities>(MODEL_CALL);
const { decide } = proxyActivities<Activities>(CONTROL_DECISION);
const { callTool } = proxyActivities<Activities>(TOOL_CALL_RETRYING);

type Outcome =
  | { status: 'completed'; result: Json }
  | { status: 'rejected'; result: Json }
  | { status: 'failed'; type: string; message: string };

const GraphState = Annotation.Root({
  decision: Annotation<Decision | null>({ reducer: (_a, b) => b, default: () => null }),
  outcome: Annotation<Outcome | null>({ reducer: (_a, b) => b, default: () => null }),
});
type S = typeof GraphState.State;

function buildGraph(run: RunState) {
  const { agent, runId, principal } = run.input;
  const failed = (type: string, message: string) => new Command({ goto: END, update: { outcome: { status: 'failed', type, message } } });

  const planNode = async () => {
    if (run.steps.length >= agent.maxSteps)
      return failed(ErrorTypes.StepLimitExceeded, `the agent did not finish within ${agent.maxSteps} steps`);
    const next = await plan.executeWithOptions(
      { ...MODEL_CALL, summary: `plan step ${run.steps.length + 1} for ${agent.name}` },
      [{ runId, agent: agent.name, input: run.input.input, steps: run.steps }],
    );
    if (next.kind === 'fail') return failed(ErrorTypes.AgentFailed, next.reason);
    if (next.kind === 'final') return new Command({ goto: END, update: { outcome: { status: 'completed', result: next.answer } } });
    const call = next.call;
    run.addStep({ tool: `${call.server}.${call.tool}`, args: call.args, status: 'proposed' });
    return new Command({ goto: 'govern', update: { decision: null } });
  };

  const governNode = async () => {
    const step = run.current;
    const [server, ...rest] = step.tool.split('.');
    const decision = await decide.executeWithOptions(
      { ...CONTROL_DECISION, summary: `govern ${step.tool}` },
      [{ runId, step: step.index, agent, principal, call: { server: server!, tool: rest.join('.'), args: step.args } }],
    );
    step.decision = { outcome: decision.outcome, reason: decision.reason };
    if (decision.outcome === 'deny') {
      step.status = 'denied';
      return failed(ErrorTypes.PolicyDenied, `${step.tool} denied: ${decision.reason}`);
    }
    // Fixed before approval (idempotency key included), so the approver sees exactly the args that will run.
    step.args = decision.args;
    return new Command({ goto: decision.outcome === 'require_approval' ? 'approve' : 'act', update: { decision } });
  };

  const approveNode = async (state: S) => {
    const step = run.current;
    const approval = run.requestApproval(step, state.decision!.requiredGroup!, agent.approvalExpiresMs);
    log.info('awaiting approval', { approvalId: approval.approvalId, group: approval.requiredGroup });
    await condition(() => approval.status !== 'pending', agent.approvalExpiresMs, { summary: `approval ${approval.approvalId} expiry` });
    run.settleApproval(approval);
    if (approval.status === 'approved') return new Command({ goto: 'act' });
    step.status = 'rejected';
    const why = approval.status === 'expired' ? `approval expired at ${approval.expiresAt}` : `rejected by ${approval.decidedBy}`;
    return new Command({ goto: END, update: { outcome: { status: 'rejected', result: { reason: why, approvalId: approval.approvalId } } } });
  };

  const actNode = async (state: S) => {
    const step = run.current;
    const decision = state.decision!;
    step.status = 'running';
    const [server, ...rest] = step.tool.split('.');
    const options = decision.idempotent ? TOOL_CALL_RETRYING : TOOL_CALL_ONCE;
    try {
      step.result = await callTool.executeWithOptions({ ...options, summary: `${step.tool} ${JSON.stringify(step.args).slice(0, 120)}` }, [
        { runId, step: step.index, call: { server: server!, tool: rest.join('.'), args: step.args } },
      ]);
      step.status = 'completed';
      return new Command({ goto: 'plan' });
    } catch (err) {
      if (isCancellation(err)) throw err;
      step.status = 'failed';
      const timedOut = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;
      if (decision.write && !decision.idempotent && timedOut) {
        step.error = 'outcome unknown: the call was in flight when its worker was lost';
        return failed(ErrorTypes.OutcomeUnknown, `${step.tool} may or may not have run; reconcile it by hand before retrying`);
      }
      step.error = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
      return failed(ErrorTypes.ToolCallFailed, `${step.tool} failed: ${step.error}`);
    }
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
  setHandler(decideApprovalUpdate, (d) => run.decide(d), { validator: (d) => run.validateDecision(d) });
  run.publish();

  let outcome: Outcome;
  try {
    const final = await buildGraph(run).invoke({}, { recursionLimit: input.agent.maxSteps * 5 + 10 });
    outcome = final.outcome ?? { status: 'failed', type: ErrorTypes.PlannerFailed, message: 'the plan ended without an outcome' };
  } catch (err) {
    if (isCancellation(err) || CancellationScope.current().consideredCancelled) {
      await CancellationScope.nonCancellable(async () => run.finish('cancelled', null));
      throw err;
    }
    const failure = err instanceof ApplicationFailure ? err : err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
    outcome = { status: 'failed', type: failure?.type ?? 'InternalError', message: (failure ?? (err as Error)).message };
  }

  await condition(allHandlersFinished);
  if (outcome.status === 'failed') {
    run.finish('failed', null, { type: outcome.type, message: outcome.message });
    throw ApplicationFailure.nonRetryable(outcome.message, outcome.type, run.view());
  }
  run.finish(outcome.status, outcome.result);
  return run.view();
}
