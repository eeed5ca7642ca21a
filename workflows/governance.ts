// The one control path a proposed tool call takes inside a run: decide (schema, phase, policy) → wait for
// approval when required → execute as an activity → record. The built-in agent (builtinAgent.ts) and authors'
// own graphs (graphRun.ts, through ctx.tools()) both call it, so every call is governed the same way.
// Also: the audit queue's carriers and the model-call fallback loop both kinds of agent share.
import { ActivityFailure, ApplicationFailure, condition, isCancellation, log, patched, proxyActivities, proxyLocalActivities, sleep, TimeoutFailure } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AuditEventInput } from '../src/audit/types.js';
import { editRequirement, nextDeadline } from '../src/core/approvals.js';
import { ErrorCode } from '../src/core/errors.js';
import { OUTCOME_UNKNOWN } from '../src/core/run.js';
import { factsOf } from '../src/core/templates.js';
import type { Approval, ApprovalRequirement, DecideApprovalInput, Decision, JsonObject, StepView, ToolResultView } from '../src/core/types.js';
import { failure } from './failure.js';
import { AUDIT_WRITE, CONTROL_DECISION, CONTROL_DECISION_LOCAL, TOOL_CALL_ONCE, TOOL_CALL_RETRYING } from './presets.js';
import type { RunState } from './runState.js';

const { decide: decideLocally } = proxyLocalActivities<Activities>(CONTROL_DECISION_LOCAL);
const { decide } = proxyActivities<Activities>(CONTROL_DECISION);
const { callTool } = proxyActivities<Activities>(TOOL_CALL_RETRYING);
const { audit } = proxyActivities<Activities>(AUDIT_WRITE);

/**
 * Runs started before decisions and embedded plans became local activities replay with regular
 * ones (versioned with `patched`), so in-flight runs survive the upgrade.
 */
export const LOCAL_CONTROL_PATCH = 'local-control-activities';

/** Repairs of an unusable model answer per call, and rounds over a route whose models all failed. */
const MODEL_REPAIRS = 2;
const MODEL_ROUNDS = 2;
const MODEL_ROUND_PAUSE_MS = 5_000;

/** How a governed call ended when it did not run to a result. */
export type CallRefusal = { kind: 'denied'; reason: string } | { kind: 'rejected'; reason: string; approvalId: string };

/** A call that ran: its result, or the failure that ends the run (the tool failed, or may or may not have run). */
export type Execution = { ok: true; result: ToolResultView } | { ok: false; type: string; message: string };

const causeMessage = (err: unknown) => ((err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message);

export function createGovernance(run: RunState) {
  const { agent, runId } = run.input;

  /**
   * Runs an activity that first writes the run's queued audit events (idempotently, by event id).
   * If it fails the events go back in the queue: the next carrier writes them, so none is skipped.
   */
  async function carryingAudit<T>(fn: (events: AuditEventInput[]) => Promise<T>): Promise<T> {
    const events = run.takeAudit();
    try {
      return await fn(events);
    } catch (err) {
      run.requeueAudit(events);
      throw err;
    }
  }

  /** Writes the queued audit events now (before waiting, and at the end). Retried until the store takes them. */
  async function flushAudit(): Promise<void> {
    await carryingAudit(async (events) => {
      if (events.length) await audit.executeWithOptions({ ...AUDIT_WRITE, summary: `audit ${events.map((e) => e.type).join(', ')}` }, [{ events }]);
    });
  }

  /**
   * One model answer. Each attempt is an activity in history: a provider that fails hands the call to the
   * route's next model; when every model failed, the chain is tried again after a pause (twice); an
   * unusable answer gets a bounded repair attempt. Anything else fails the run with a clear type.
   */
  async function withModelFallback<T>(attempt: (a: { exclude: string[]; repair?: string; purpose: string }) => Promise<T>, what: string): Promise<T> {
    const exclude: string[] = [];
    let repair: string | undefined;
    let repairs = 0;
    let rounds = 0;
    for (;;) {
      const purpose = `${what}${exclude.length ? ` without ${exclude.join(', ')}` : ''}${repair ? ' (repair)' : ''}`;
      try {
        return await attempt({ exclude, purpose, ...(repair ? { repair } : {}) });
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
  }

  function decideCall(step: StepView, args: JsonObject, purpose: string, editOf?: JsonObject): Promise<Decision> {
    const [server, ...rest] = step.tool.split('.');
    return carryingAudit((events) => {
      // Facts the agent declares, from the run's earlier results (pure: replay computes the same; activity inputs are not replay-checked).
      const facts = agent.facts ? (factsOf(agent.facts, run.input.input, run.steps.slice(0, step.index)) as JsonObject) : undefined;
      const input = {
        runId,
        step: step.index,
        agent,
        identity: run.identity,
        call: { server: server!, tool: rest.join('.'), args },
        ...(editOf ? { editOf } : {}),
        ...(facts ? { facts } : {}),
        labels: run.labels,
        audit: events,
      };
      const summary = `${purpose} ${step.tool}${step.node ? ` (node ${step.node})` : ''}`;
      return patched(LOCAL_CONTROL_PATCH) ? decideLocally.executeWithOptions({ ...CONTROL_DECISION_LOCAL, summary }, [input]) : decide.executeWithOptions({ ...CONTROL_DECISION, summary }, [input]);
    });
  }

  function recordDecision(step: StepView, decision: Decision): void {
    run.raiseRisk(decision);
    step.decision = { outcome: decision.outcome, reason: decision.reason, policyIds: decision.policyIds, policyVersion: decision.policyVersion, write: decision.write };
    // Fixed before approval (idempotency key included), so the approver sees exactly the args that will run.
    step.args = decision.args;
  }

  /** Decides the step's call; a denial marks the step, a required approval is requested. */
  async function govern(step: StepView): Promise<Decision> {
    const decision = await decideCall(step, step.args, 'govern');
    recordDecision(step, decision);
    if (decision.outcome === 'deny') step.status = 'denied';
    if (decision.outcome === 'require_approval') run.requestApproval(step, decision as Decision & { approval: ApprovalRequirement });
    return decision;
  }

  /**
   * Waits for the step's approval: escalation and expiry are durable timers. An approver's edit
   * supersedes the approval with a new one (see editApproval), so this follows the newest.
   */
  async function awaitApproval(step: StepView): Promise<{ approved: true } | ({ approved: false } & Extract<CallRefusal, { kind: 'rejected' }>)> {
    for (;;) {
      const a = run.latestApproval(step.index)!;
      if (a.status !== 'pending') {
        if (a.status === 'approved') return { approved: true };
        step.status = 'rejected';
        const reason = a.status === 'expired' ? `approval expired at ${a.expiresAt}` : `rejected by ${a.decidedBy}`;
        return { approved: false, kind: 'rejected', reason, approvalId: a.approvalId };
      }
      log.info('awaiting approval', { approvalId: a.approvalId, group: a.requiredGroup, quorum: a.quorum });
      await flushAudit();
      const deadline = nextDeadline(a);
      const settled = await condition(() => a.status !== 'pending', Math.max(deadline.at - Date.now(), 1), {
        summary: `approval ${a.approvalId} ${deadline.kind}`,
      });
      if (!settled) {
        if (deadline.kind === 'escalation') run.escalate(a);
        else run.settleApproval(a);
      } else if ((a.status as Approval['status']) !== 'superseded') run.settleApproval(a);
    }
  }

  /** Approve with changed args: validated and re-decided by policy; a different requirement is requested afresh. */
  async function editApproval(d: DecideApprovalInput): Promise<Approval> {
    const a = run.approvals.find((x) => x.approvalId === d.approvalId)!;
    const step = run.steps[a.step]!;
    // Policy sees the args as first proposed (`context.edit`), so it can require an edit to keep the same business object.
    const decision = await decideCall(step, d.args!, 'edit', step.args);
    // Other decisions may have landed while policy was consulted.
    if (a.status !== 'pending') throw failure(ErrorCode.AlreadyDecided, `approval ${a.approvalId} is already ${a.status}`);
    if (decision.outcome === 'deny') throw failure(ErrorCode.InvalidEdit, `edited args refused: ${decision.reason}`);
    recordDecision(step, decision);
    run.editDecisions.set(step.index, decision);
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
  }

  /** Calls the tool as an activity (retried only when safe) and records what happened. */
  async function execute(step: StepView, decision: Decision): Promise<Execution> {
    step.status = 'running';
    const [server, ...rest] = step.tool.split('.');
    const options = decision.idempotent ? TOOL_CALL_RETRYING : TOOL_CALL_ONCE;
    const call = { server: server!, tool: rest.join('.'), args: step.args };
    const executed = (outcome: string, data: JsonObject) =>
      run.note('tool.executed', { server: call.server, tool: call.tool, outcome, data: { step: step.index, args: step.args, digest: decision.digest, ...data } });
    try {
      // The approval's decision is written before the call (carried by it): no record, no call.
      const result = await carryingAudit((events) =>
        callTool.executeWithOptions({ ...options, summary: `${step.node ? `[${step.node}] ` : ''}${step.tool} ${JSON.stringify(step.args).slice(0, 120)}` }, [
          { runId, step: step.index, call, audit: events, idempotent: decision.idempotent },
        ]),
      );
      step.result = result;
      step.status = 'completed';
      // The run has now seen the result: its labels rise with what the catalog says the result is.
      if (decision.source) run.see({ server: call.server, tool: call.tool, ...decision.source }, step.index);
      executed(result.isError ? 'error' : 'success', { resultDigest: result.digest ?? null, durationMs: result.durationMs ?? null });
      return { ok: true, result };
    } catch (err) {
      if (isCancellation(err)) throw err;
      executed('failed', { error: causeMessage(err) });
      step.status = 'failed';
      const timedOut = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;
      // The activity says so itself when the server's connection was lost after the call was sent.
      const lost = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorCode.OutcomeUnknown;
      if (decision.write && !decision.idempotent && (timedOut || lost)) {
        step.error = `${OUTCOME_UNKNOWN}: ${lost ? causeMessage(err) : 'the call was in flight when its worker was lost'}`;
        return { ok: false, type: ErrorCode.OutcomeUnknown, message: `${step.tool} may or may not have run; reconcile it by hand before retrying` };
      }
      step.error = causeMessage(err);
      return { ok: false, type: ErrorCode.ToolCallFailed, message: `${step.tool} failed: ${step.error}` };
    }
  }

  /** The decision that will run for a step: an approver's edit replaces the one the step was governed with. */
  const decisionFor = (step: StepView, governed: Decision): Decision => run.editDecisions.get(step.index) ?? governed;

  return { carryingAudit, flushAudit, withModelFallback, decideCall, recordDecision, govern, awaitApproval, editApproval, execute, decisionFor };
}

export type Governance = ReturnType<typeof createGovernance>;
