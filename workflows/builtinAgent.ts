// The built-in agent of YAML-only agents, written with the same SDK as an author's agent (`defineAgent`)
// and run by the same graph runner (graphRun.ts): plan → govern → [approve] → act → plan … until the
// planner answers, a limit is reached, or a call is denied, rejected or fails.
// It plans with the planner activity (one structured next step per call, the embedded planner by default,
// as a local activity) rather than a chat model, and its nodes call the one control path directly: a
// denial ends the run (`failed`, PolicyDenied), where a ReAct agent would read it as a tool result.
// Its state lives on the run (RunState), not in the graph, so a long run continues as new at a step boundary.
// A run that fails or is rejected then makes the agent's `onFailure` calls (close the ticket it opened, saying why).
import { Annotation, Command, END, START, StateGraph } from '@langchain/langgraph';
import { log, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { defineAgent, type AgentDefinition } from '../src/agent/define.js';
import { ErrorCode } from '../src/core/errors.js';
import { fillTemplates, stepResults, succeededSteps, TemplateValueMissing } from '../src/core/templates.js';
import type { Decision, JsonObject } from '../src/core/types.js';
import { LOCAL_CONTROL_PATCH, type Governance } from './governance.js';
import { EMBEDDED_PLAN_LOCAL, MODEL_CALL } from './presets.js';
import type { Outcome, RunState } from './runState.js';

const { plan } = proxyActivities<Activities>(MODEL_CALL);
const { plan: planLocally } = proxyLocalActivities<Activities>(EMBEDDED_PLAN_LOCAL);

const BuiltinState = Annotation.Root({
  decision: Annotation<Decision | null>({ reducer: (_a, b) => b, default: () => null }),
});
type S = typeof BuiltinState.State;

/** The built-in agent for one run: `defineAgent` over the plan/govern/approve/act graph. */
export function builtinAgent(run: RunState, gov: Governance): AgentDefinition {
  return defineAgent(() => buildGraph(run, gov), { initialState: () => ({}) });
}

function buildGraph(run: RunState, gov: Governance) {
  const { agent, runId } = run.input;
  /** The run's outcome, decided by a node: kept on the run, and the graph goes to its end. */
  const end = (outcome: Outcome) => {
    run.stopped ??= outcome;
    // Runs started before onFailure existed replay without it (their agent has none, but a marker is cheap insurance).
    const cleanUp = (outcome.status === 'failed' || outcome.status === 'rejected') && (agent.onFailure?.length ?? 0) > 0 && patched(ON_FAILURE_PATCH);
    return new Command({ goto: cleanUp ? 'onFailure' : END });
  };
  const failed = (type: string, message: string) => end({ status: 'failed', type, message });

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
    if (run.shouldContinueAsNew()) return end({ status: 'continue' });
    const { next, model } = await nextStep();
    if (next.kind === 'fail') return failed(ErrorCode.AgentFailed, next.reason);
    if (next.kind === 'final') {
      run.finalModel = model;
      return end({ status: 'completed', result: next.answer });
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
    const a = await gov.awaitApproval(run.current);
    return a.approved ? new Command({ goto: 'act' }) : end({ status: 'rejected', result: { reason: a.reason, approvalId: a.approvalId } });
  };

  const actNode = async (state: S) => {
    const step = run.current;
    const r = await gov.execute(step, gov.decisionFor(step, state.decision!));
    return r.ok ? new Command({ goto: 'plan' }) : failed(r.type, r.message);
  };

  /**
   * The agent's onFailure calls, in order, each governed like any other call. A step whose templates name a value
   * the run does not have is skipped; one policy does not allow outright is recorded, not run (nobody is asked to
   * approve after the run ended). What they do never changes the run's outcome.
   */
  const onFailureNode = async () => {
    const outcome = run.stopped!;
    const reason = outcome.status === 'failed' ? outcome.message : outcome.status === 'rejected' ? ((outcome.result as { reason?: string } | null)?.reason ?? 'not approved') : outcome.status;
    const scope = { input: run.input.input, steps: stepResults(succeededSteps(run.steps)), outcome: { status: outcome.status, reason } };
    for (const [i, s] of (agent.onFailure ?? []).entries()) {
      let args: JsonObject;
      try {
        args = fillTemplates(s.args, scope) as JsonObject;
      } catch (err) {
        if (!(err instanceof TemplateValueMissing)) throw err;
        log.info('onFailure step skipped', { step: i, tool: s.tool, missing: err.expr });
        continue;
      }
      const step = run.addStep({ tool: s.tool, args, status: 'proposed', node: 'onFailure' });
      const decision = await gov.decideCall(step, step.args, 'on failure');
      gov.recordDecision(step, decision);
      if (decision.outcome !== 'allow') {
        step.status = 'denied';
        if (decision.outcome === 'require_approval') step.error = 'needs approval, which is not asked for after the run ended';
        continue;
      }
      await gov.execute(step, decision);
    }
    return new Command({ goto: END });
  };

  return new StateGraph(BuiltinState)
    .addNode('plan', planNode, { ends: ['govern', 'onFailure', END] })
    .addNode('govern', governNode, { ends: ['act', 'approve', 'onFailure', END] })
    .addNode('approve', approveNode, { ends: ['act', 'onFailure', END] })
    .addNode('act', actNode, { ends: ['plan', 'onFailure', END] })
    .addNode('onFailure', onFailureNode, { ends: [END] })
    .addEdge(START, 'plan')
    .compile();
}

/** Failed and rejected runs make their agent's onFailure calls from this change on. */
export const ON_FAILURE_PATCH = 'airlock-on-failure-steps';
