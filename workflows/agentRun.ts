// The agent run: a LangGraph plan executed inside a Temporal workflow.
// plan → govern → [approve] → act → plan … (act's result is what the next plan observes) until the planner is done or the step limit.
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
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  setHandler,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { decideApprovalUpdate, getRunQuery } from './definitions.js';
import { AUDIT_WRITE, CONTROL_DECISION, CONTROL_DECISION_LOCAL, EMBEDDED_PLAN_LOCAL, MODEL_CALL, TOOL_CALL_ONCE, TOOL_CALL_RETRYING } from './presets.js';
import { RunState } from './runState.js';
import type { AuditEventInput } from '../src/audit/types.js';
import { editRequirement, nextDeadline } from '../src/core/approvals.js';
import { ErrorCode } from '../src/core/errors.js';
import type { Approval, ApprovalRequirement, DecideApprovalInput, Decision, Json, JsonObject, RunInput, RunView, StepView } from '../src/core/types.js';
import { failure } from './failure.js';

const { plan } = proxyActivities<Activities>(MODEL_CALL);
const { decide: decideLocally } = proxyLocalActivities<Activities>(CONTROL_DECISION_LOCAL);
const { decide } = proxyActivities<Activities>(CONTROL_DECISION);
const { plan: planLocally } = proxyLocalActivities<Activities>(EMBEDDED_PLAN_LOCAL);

/**
 * Runs started before decisions and embedded plans became local activities replay with regular
 * ones (versioned with `patched`), so in-flight runs survive the upgrade.
 */
const LOCAL_CONTROL_PATCH = 'local-control-activities';
const { callTool } = proxyActivities<Activities>(TOOL_CALL_RETRYING);
const { audit } = proxyActivities<Activities>(AUDIT_WRITE);

type Outcome =
  | { status: 'completed'; result: Json }
  | { status: 'rejected'; result: Json }
  | { status: 'failed'; type: string; message: string }
  /** The run is long: it continues in a fresh workflow run (history stays small). */
  | { status: 'continue' };

/** Repairs of an unusable model answer per step, and rounds over a route whose models all failed. */
const MODEL_REPAIRS = 2;
const MODEL_ROUNDS = 2;
const MODEL_ROUND_PAUSE_MS = 5_000;

const GraphState = Annotation.Root({
  decision: Annotation<Decision | null>({ reducer: (_a, b) => b, default: () => null }),
  outcome: Annotation<Outcome | null>({ reducer: (_a, b) => b, default: () => null }),
});
type S = typeof GraphState.State;

/**
 * Runs an activity that first writes the run's queued audit events (idempotently, by event id).
 * If it fails the events go back in the queue: the next carrier writes them, so none is skipped.
 */
async function carryingAudit<T>(run: RunState, fn: (events: AuditEventInput[]) => Promise<T>): Promise<T> {
  const events = run.takeAudit();
  try {
    return await fn(events);
  } catch (err) {
    run.requeueAudit(events);
    throw err;
  }
}

/** Writes the queued audit events now (before waiting, and at the end). Retried until the store takes them. */
async function flushAudit(run: RunState): Promise<void> {
  await carryingAudit(run, async (events) => {
    if (events.length) await audit.executeWithOptions({ ...AUDIT_WRITE, summary: `audit ${events.map((e) => e.type).join(', ')}` }, [{ events }]);
  });
}

function buildGraph(run: RunState) {
  const { agent, runId } = run.input;
  const failed = (type: string, message: string) => new Command({ goto: END, update: { outcome: { status: 'failed', type, message } } });

  /**
   * One planning answer. Each attempt is an activity in history: a provider that fails hands the step
   * to the route's next model; when every model failed, the chain is tried again after a pause (twice);
   * an unusable answer gets a bounded repair attempt. Anything else fails the run with a clear type.
   */
  const nextStep = async () => {
    const exclude: string[] = [];
    let repair: string | undefined;
    let repairs = 0;
    let rounds = 0;
    for (;;) {
      const purpose = `plan step ${run.steps.length + 1}${exclude.length ? ` without ${exclude.join(', ')}` : ''}${repair ? ' (repair)' : ''}`;
      try {
        const r = await carryingAudit(run, (events) => {
          const args = { runId, agent: agent.name, input: run.input.input, steps: run.steps, identity: run.identity, audit: events, exclude, ...(repair ? { repair } : {}) };
          // The embedded planner answers in microseconds: a local activity, no task-queue round trip.
          return agent.localPlanning && patched(LOCAL_CONTROL_PATCH)
            ? planLocally.executeWithOptions({ ...EMBEDDED_PLAN_LOCAL, summary: purpose }, [args])
            : plan.executeWithOptions({ ...MODEL_CALL, summary: purpose }, [args]);
        });
        run.addUsage(r.model);
        return r;
      } catch (err) {
        const f = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
        if (f?.type === ErrorCode.ProviderUnavailable) {
          exclude.push((f.details?.[0] as { model: string }).model);
          continue;
        }
        if (f?.type === ErrorCode.ModelsExhausted && rounds < MODEL_ROUNDS) {
          rounds++;
          exclude.length = 0;
          await sleep(MODEL_ROUND_PAUSE_MS * 2 ** (rounds - 1));
          continue;
        }
        if (f?.type === ErrorCode.ModelOutputInvalid && repairs < MODEL_REPAIRS) {
          repairs++;
          repair = f.message;
          continue;
        }
        throw err;
      }
    }
  };

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

  const decideCall = (step: StepView, args: JsonObject, purpose: string) => {
    const [server, ...rest] = step.tool.split('.');
    return carryingAudit(run, (events) => {
      const input = { runId, step: step.index, agent, identity: run.identity, call: { server: server!, tool: rest.join('.'), args }, audit: events };
      const summary = `${purpose} ${step.tool}`;
      return patched(LOCAL_CONTROL_PATCH) ? decideLocally.executeWithOptions({ ...CONTROL_DECISION_LOCAL, summary }, [input]) : decide.executeWithOptions({ ...CONTROL_DECISION, summary }, [input]);
    });
  };
  const recordDecision = (step: StepView, decision: Decision) => {
    run.raiseRisk(decision);
    step.decision = { outcome: decision.outcome, reason: decision.reason, policyIds: decision.policyIds, policyVersion: decision.policyVersion };
    // Fixed before approval (idempotency key included), so the approver sees exactly the args that will run.
    step.args = decision.args;
  };

  const governNode = async () => {
    const step = run.current;
    const decision = await decideCall(step, step.args, 'govern');
    recordDecision(step, decision);
    if (decision.outcome === 'deny') {
      step.status = 'denied';
      return failed(ErrorCode.PolicyDenied, `${step.tool} denied: ${decision.reason}`);
    }
    if (decision.outcome === 'require_approval') {
      run.requestApproval(step, decision as Decision & { approval: ApprovalRequirement });
      return new Command({ goto: 'approve', update: { decision } });
    }
    return new Command({ goto: 'act', update: { decision } });
  };

  /**
   * Waits for the step's approval: escalation and expiry are durable timers. An approver's edit
   * supersedes the approval with a new one (see editApproval), so this follows the newest.
   */
  const approveNode = async () => {
    const step = run.current;
    for (;;) {
      const a = run.latestApproval(step.index)!;
      if (a.status !== 'pending') {
        if (a.status === 'approved') return new Command({ goto: 'act' });
        step.status = 'rejected';
        const why = a.status === 'expired' ? `approval expired at ${a.expiresAt}` : `rejected by ${a.decidedBy}`;
        return new Command({ goto: END, update: { outcome: { status: 'rejected', result: { reason: why, approvalId: a.approvalId } } } });
      }
      log.info('awaiting approval', { approvalId: a.approvalId, group: a.requiredGroup, quorum: a.quorum });
      await flushAudit(run);
      const deadline = nextDeadline(a);
      const settled = await condition(() => a.status !== 'pending', Math.max(deadline.at - Date.now(), 1), {
        summary: `approval ${a.approvalId} ${deadline.kind}`,
      });
      if (!settled) {
        if (deadline.kind === 'escalation') run.escalate(a);
        else run.settleApproval(a);
      } else if ((a.status as Approval['status']) !== 'superseded') run.settleApproval(a);
    }
  };

  /** Approve with changed args: validated and re-decided by policy; a different requirement is requested afresh. */
  const editApproval = async (d: DecideApprovalInput): Promise<Approval> => {
    const a = run.approvals.find((x) => x.approvalId === d.approvalId)!;
    const step = run.steps[a.step]!;
    const decision = await decideCall(step, d.args!, 'edit');
    // Other decisions may have landed while policy was consulted.
    if (a.status !== 'pending') throw failure(ErrorCode.AlreadyDecided, `approval ${a.approvalId} is already ${a.status}`);
    if (decision.outcome === 'deny') throw failure(ErrorCode.InvalidEdit, `edited args refused: ${decision.reason}`);
    recordDecision(step, decision);
    const next = run.requestApproval(step, { ...decision, approval: editRequirement(decision, a, Date.now()) }, { by: d.approver.subject, replaces: a });
    if (decision.outcome === 'allow') {
      // Policy allows the edited call outright: the editor's approval is the only one it needs.
      return run.vote({ ...d, approvalId: next.approvalId, args: undefined, digest: undefined, editedArgs: d.args });
    }
    // The edited call needs its own approval; the editor's vote counts if they may decide it.
    try {
      run.validateDecision({ ...d, approvalId: next.approvalId, args: undefined, digest: undefined });
    } catch {
      return next;
    }
    return run.vote({ ...d, approvalId: next.approvalId, args: undefined, digest: undefined, editedArgs: d.args });
  };

  const actNode = async (state: S) => {
    const step = run.current;
    const decision = state.decision!;
    step.status = 'running';
    const [server, ...rest] = step.tool.split('.');
    const options = decision.idempotent ? TOOL_CALL_RETRYING : TOOL_CALL_ONCE;
    const call = { server: server!, tool: rest.join('.'), args: step.args };
    const executed = (outcome: string, data: JsonObject) =>
      run.note('tool.executed', { server: call.server, tool: call.tool, outcome, data: { step: step.index, args: step.args, digest: decision.digest, ...data } });
    try {
      // The approval's decision is written before the call (carried by it): no record, no call.
      step.result = await carryingAudit(run, (events) =>
        callTool.executeWithOptions({ ...options, summary: `${step.tool} ${JSON.stringify(step.args).slice(0, 120)}` }, [{ runId, step: step.index, call, audit: events }]),
      );
      step.status = 'completed';
      executed(step.result.isError ? 'error' : 'success', { resultDigest: step.result.digest ?? null, durationMs: step.result.durationMs ?? null });
      return new Command({ goto: 'plan' });
    } catch (err) {
      if (isCancellation(err)) throw err;
      executed('failed', { error: (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message });
      step.status = 'failed';
      const timedOut = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;
      if (decision.write && !decision.idempotent && timedOut) {
        step.error = 'outcome unknown: the call was in flight when its worker was lost';
        return failed(ErrorCode.OutcomeUnknown, `${step.tool} may or may not have run; reconcile it by hand before retrying`);
      }
      step.error = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
      return failed(ErrorCode.ToolCallFailed, `${step.tool} failed: ${step.error}`);
    }
  };

  const graph = new StateGraph(GraphState)
    .addNode('plan', planNode, { ends: ['govern', END] })
    .addNode('govern', governNode, { ends: ['act', 'approve', END] })
    .addNode('approve', approveNode, { ends: ['act', END] })
    .addNode('act', actNode, { ends: ['plan', END] })
    .addEdge(START, 'plan')
    .compile();
  return { graph, editApproval };
}

export async function agentRunWorkflow(input: RunInput): Promise<RunView> {
  const run = new RunState(input);
  setHandler(getRunQuery, () => run.view());
  const { graph, editApproval } = buildGraph(run);
  setHandler(decideApprovalUpdate, async (d) => (d.args ? editApproval(d) : run.vote(d)), { validator: (d) => run.validateDecision(d) });
  if (!input.carried)
    run.note('run.started', {
      data: { inputDigest: input.inputDigest ?? null, phase: input.agent.phase, requester: input.principal.subject, groups: run.identity.groups },
    });
  run.publish();

  let outcome: Outcome;
  try {
    const final = await graph.invoke({}, { recursionLimit: input.agent.maxSteps * 5 + 10 });
    outcome = final.outcome ?? { status: 'failed', type: ErrorCode.PlannerFailed, message: 'the plan ended without an outcome' };
  } catch (err) {
    if (isCancellation(err) || CancellationScope.current().consideredCancelled) {
      await CancellationScope.nonCancellable(async () => {
        run.finish('cancelled', null);
        await flushAudit(run);
      });
      throw err;
    }
    const f = err instanceof ApplicationFailure ? err : err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
    outcome = { status: 'failed', type: f?.type ?? ErrorCode.InternalError, message: (f ?? (err as Error)).message };
  }

  await condition(allHandlersFinished);
  if (outcome.status === 'continue') {
    await flushAudit(run);
    return await continueAsNew<typeof agentRunWorkflow>({ ...input, carried: run.carry() });
  }
  if (outcome.status === 'failed') {
    run.finish('failed', null, { type: outcome.type, message: outcome.message });
    await flushAudit(run);
    throw ApplicationFailure.nonRetryable(outcome.message, outcome.type, run.view());
  }
  run.finish(outcome.status, outcome.result);
  await flushAudit(run);
  return run.view();
}
