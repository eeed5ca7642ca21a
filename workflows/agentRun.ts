// The agent run: the agent's LangGraph graph executed inside a Temporal workflow (graphRun.ts), an author's
// module or the built-in plan → govern → [approve] → act loop of YAML-only agents (builtinAgent.ts).
// Temporal history is the only source of truth: the graph's checkpointer is in memory, rebuilt by replay.
import './shim.js';
import './langchainContext.js';
import { ActivityFailure, allHandlersFinished, ApplicationFailure, CancellationScope, condition, continueAsNew, isCancellation, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AgentDefinition } from '../src/agent/define.js';
import type { AgentToolDef } from '../src/agent/types.js';
import { ErrorCode } from '../src/core/errors.js';
import { isOpen } from '../src/core/run.js';
import type { CancelRunInput, DecideApprovalInput, ProvideInputInput, RunInput, RunView } from '../src/core/types.js';
import { agentDefinition } from './agents.js';
import { builtinAgent } from './builtinAgent.js';
import { cancelRunUpdate, decideApprovalUpdate, getRunQuery, provideInputUpdate } from './definitions.js';
import { failure } from './failure.js';
import { createGovernance, type Governance } from './governance.js';
import { runAgentGraph } from './graphRun.js';
import { createNotifier } from './notify.js';
import { proven, requireProof } from './proof.js';
import { AGENT_TOOLS } from './presets.js';
import { RunState, type Outcome } from './runState.js';

const { agentTools } = proxyActivities<Activities>(AGENT_TOOLS);

export type { Outcome } from './runState.js';

/** The tools `ctx.tools()` offers an author's graph (the built-in agent plans with the planner instead). */
async function toolsOf(agent: RunInput['agent']): Promise<AgentToolDef[]> {
  if (!agent.graph) return [];
  // Not an audit carrier: the queued events (run.started) go with the next activity that writes them.
  return agentTools.executeWithOptions({ ...AGENT_TOOLS, summary: `tools of ${agent.name}` }, [{ agent: agent.name }]);
}

/** The agent's definition: its module's, registered in this worker's bundle, or the built-in agent of a YAML-only agent. */
function definitionOf(run: RunState, gov: Governance): AgentDefinition {
  const { agent } = run.input;
  if (!agent.graph) return builtinAgent(run, gov);
  const def = agentDefinition(agent.name);
  if (!def) throw failure(ErrorCode.AgentFailed, `agent ${agent.name} is configured with a graph, but this worker's bundle does not carry it (restart the worker with the same config)`);
  return def;
}

export async function agentRunWorkflow(input: RunInput): Promise<RunView> {
  const run = new RunState(input);
  // Notifications, when the agent has routes (patched: runs from before replay without them).
  const notifier = createNotifier(run);
  run.listener = notifier;
  setHandler(getRunQuery, () => run.view());
  const gov = createGovernance(run);
  // A person's message counts only with the API's proof over it, checked before anything is recorded.
  const runId = input.runId;
  setHandler(
    decideApprovalUpdate,
    proven('decision', runId, (d: DecideApprovalInput) => (d.args ? gov.editApproval(d) : run.vote(d))),
    { validator: (d) => (requireProof(d), run.validateDecision(d)) },
  );
  setHandler(
    provideInputUpdate,
    proven('input', runId, (d: ProvideInputInput) => run.answerInput(d)),
    { validator: (d) => (requireProof(d), run.validateAnswer(d)) },
  );
  // A person's cancellation, through the API with its proof: the run records who asked; the API then cancels the
  // workflow itself, so Temporal shows it cancelled (a cancellation straight from Temporal names nobody).
  setHandler(
    cancelRunUpdate,
    proven('cancel', runId, (d: CancelRunInput) => {
      run.cancelRequest ??= { by: d.by.subject, ...(d.reason ? { reason: d.reason } : {}) };
    }),
    {
      validator: (d) => {
        requireProof(d);
        if (!isOpen(run.status)) throw failure(ErrorCode.RunClosed, `run is already ${run.status}`);
      },
    },
  );
  if (!input.carried)
    run.note('run.started', {
      data: { inputDigest: input.inputDigest ?? null, phase: input.agent.phase, requester: input.principal.subject, groups: run.identity.groups, labels: { ...run.labels } },
    });
  run.publish();

  let outcome: Outcome;
  try {
    outcome = await runAgentGraph(run, gov, definitionOf(run, gov), await toolsOf(input.agent));
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
    await notifier?.drain();
    return await continueAsNew<typeof agentRunWorkflow>({ ...input, carried: run.carry() });
  }
  if (outcome.status === 'failed') {
    run.finish('failed', null, { type: outcome.type, message: outcome.message });
    await gov.flushAudit();
    await notifier?.drain();
    throw ApplicationFailure.nonRetryable(outcome.message, outcome.type, run.view());
  }
  run.finish(outcome.status, outcome.result);
  await gov.flushAudit();
  await notifier?.drain();
  // A rejected (or expired) run is not a success: Temporal and its UI show it failed, typed RunRejected, with the
  // run's view as details. Histories recorded before this completed such runs, and replay as they ran.
  if (outcome.status === 'rejected' && patched(REJECTED_FAILS_PATCH)) {
    const reason = (outcome.result as { reason?: string } | null)?.reason ?? 'not approved';
    throw ApplicationFailure.nonRetryable(`the run was rejected: ${reason}`, ErrorCode.RunRejected, run.view());
  }
  return run.view();
}

/** Rejected runs end as failed workflows (type RunRejected) from this change on. */
export const REJECTED_FAILS_PATCH = 'airlock-rejected-run-fails';
