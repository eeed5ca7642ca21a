// The run workflow on Temporal's time-skipping test server with mocked activities (the Temporal samples'
// way): the approval book as the workflow applies it — quorum, separation of duties, edits re-decided
// by policy, expiry on a durable timer — in seconds, without MCP servers, policies or an API.
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Activities } from '../../activities/index.js';
import { callDigest } from '../../src/core/canonical.js';
import type { ApprovalRequirement, Decision, DecideApprovalInput, JsonObject, PlanOutput, RunInput, RunView, ToolCall } from '../../src/core/types.js';
import { createProofActivities } from '../../activities/proof.js';
import { signed } from '../../src/api/workflows.js';
import { ROOT, type AirlockConfig } from '../../src/config/load.js';
import { runIdOfApproval } from '../../src/core/approvals.js';
import { temporalTestServer } from '../../src/temporal/binary.js';
import { ensureSearchAttributes } from '../../src/temporal/setup.js';
import { workflowBundle } from '../../src/worker/bundle.js';
import { workflowTracingSinks } from '../../src/observability/tracing.js';
import { agentRunWorkflow } from '../../workflows/agentRun.js';
import { decideApprovalUpdate, getRunQuery } from '../../workflows/definitions.js';

const HOUR = 3_600_000;
const PROOF_CONFIG = { dataDir: mkdtempSync(join(tmpdir(), 'airlock-wf-proof-')), identity: {} } as unknown as AirlockConfig;
const REFUND: ToolCall = { server: 'billing', tool: 'issue_refund', args: { invoiceId: 'INV-1', amount: 600 } };

/** Per run: the plan it follows, what policy says of each args, and the calls that reached the "tool". */
interface Script {
  plan: PlanOutput[];
  policy: (args: JsonObject) => Pick<Decision, 'outcome' | 'reason'> & { approval?: ApprovalRequirement };
  called: ToolCall[];
  /** Tools whose calls fail. */
  failing?: string[];
}
const scripts = new Map<string, Script>();

function decision(call: ToolCall, p: ReturnType<Script['policy']>): Decision {
  return { ...p, policyIds: ['p'], policyVersion: 'v1', write: true, idempotent: true, args: call.args, digest: callDigest(call.server, call.tool, call.args, 'v1') };
}

/** The activities the workflow schedules, answering from each run's script. */
const activities: Partial<Activities> = {
  async plan({ runId, steps }) {
    const next = scripts.get(runId)!.plan[steps.length] ?? { kind: 'final', answer: { done: true } };
    return { next, model: { provider: 'embedded', model: 'script', reason: 'test', classification: 'internal', inputTokens: 0, outputTokens: 0, costUsd: 0 } };
  },
  async decide({ runId, call }) {
    return decision(call, scripts.get(runId)!.policy(call.args));
  },
  async callTool({ runId, call }) {
    if (scripts.get(runId)!.failing?.includes(call.tool)) throw ApplicationFailure.nonRetryable(`${call.tool} is down`, 'ToolCallFailed');
    scripts.get(runId)!.called.push(call);
    return { isError: false, data: { ok: true } };
  },
  async audit() {},
  // The real proof check, with the same key the test signs with.
  ...createProofActivities({ config: PROOF_CONFIG }),
};

describe('agent run workflow with mocked activities (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let n = 0;

  before(async () => {
    const path = temporalTestServer({ root: ROOT, env: process.env as Record<string, string> }, false);
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    await ensureSearchAttributes(env.connection, 'default');
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'wf-test', workflowBundle: await workflowBundle(), activities, sinks: workflowTracingSinks() });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  async function start(script: Omit<Script, 'called'>) {
    const runId = `run-wf${++n}${Date.now().toString(36)}`;
    const s: Script = { ...script, called: [] };
    scripts.set(runId, s);
    const input: RunInput = {
      runId,
      agent: { name: 'refunds', servers: ['billing'], maxSteps: 5, phase: 'autonomous', approvalDefaults: { group: 'approvers', expiresMs: 72 * HOUR } },
      input: {},
      principal: { subject: 'alice', kind: 'user', groups: ['support'], roles: ['requester'] },
    };
    const handle = await env.client.workflow.start(agentRunWorkflow, { workflowId: runId, taskQueue: 'wf-test', args: [input] });
    return { handle, script: s, runId };
  }

  const waitFor = async (handle: { query: (q: typeof getRunQuery) => Promise<RunView> }, pred: (v: RunView) => boolean): Promise<RunView> => {
    for (let i = 0; i < 200; i++) {
      const v = await handle.query(getRunQuery);
      if (pred(v)) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('the run never reached the expected state');
  };

  /** A rejected run ends as a failed workflow (so Temporal never shows it as a success), typed RunRejected, its view in the details. */
  const rejectedView = async (handle: { result: () => Promise<RunView> }): Promise<RunView> => {
    try {
      await handle.result();
    } catch (err) {
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
      assert.equal(err.cause.type, 'RunRejected');
      return err.cause.details![0] as RunView;
    }
    assert.fail('a rejected run completed as a success');
  };

  const refused = async (p: Promise<unknown>): Promise<string | undefined> => {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure, String(err));
      return err.cause.type ?? undefined;
    }
    assert.fail('the update was accepted');
  };

  /** A vote as the API sends it: signed with the API's decision key (the real one, under a temporary data dir). */
  const vote = async (subject: string, groups: string[], d: Omit<DecideApprovalInput, 'approver'>) => ({
    args: [await signed(PROOF_CONFIG, 'decision', runIdOfApproval(d.approvalId)!, { ...d, approver: { subject, groups } })] as [DecideApprovalInput],
  });

  test('a quorum of two distinct finance members approves; the requester and a repeated voter are refused; the call runs once', async () => {
    const { handle, script } = await start({
      plan: [{ kind: 'call', call: REFUND }],
      policy: () => ({ outcome: 'require_approval', reason: 'large refund', approval: { group: 'finance', quorum: 2, expiresAfterMs: 72 * HOUR } }),
    });
    const waiting = await waitFor(handle, (v) => v.status === 'awaiting_approval');
    const a = waiting.pendingApprovals[0]!;
    assert.equal(await refused(handle.executeUpdate(decideApprovalUpdate, await vote('alice', ['finance'], { approvalId: a.approvalId, decision: 'approve' }))), 'Forbidden');
    assert.equal(await refused(handle.executeUpdate(decideApprovalUpdate, await vote('zed', ['support'], { approvalId: a.approvalId, decision: 'approve' }))), 'Forbidden');
    const first = await handle.executeUpdate(decideApprovalUpdate, await vote('bob', ['finance'], { approvalId: a.approvalId, decision: 'approve', digest: a.digest }));
    assert.equal(first.status, 'pending');
    assert.equal(await refused(handle.executeUpdate(decideApprovalUpdate, await vote('bob', ['finance'], { approvalId: a.approvalId, decision: 'approve' }))), 'AlreadyDecided');
    assert.equal(await refused(handle.executeUpdate(decideApprovalUpdate, await vote('carol', ['finance'], { approvalId: a.approvalId, decision: 'approve', digest: 'stale' }))), 'DigestMismatch');
    const second = await handle.executeUpdate(decideApprovalUpdate, await vote('carol', ['finance'], { approvalId: a.approvalId, decision: 'approve' }));
    assert.equal(second.status, 'approved');
    const done = await handle.result();
    assert.equal(done.status, 'completed');
    assert.deepEqual(script.called, [REFUND]);
    // The built-in agent is a graph like any other: its path is the nodes it ran, in order.
    assert.deepEqual(done.path, ['plan', 'govern', 'approve', 'act', 'plan']);
  });

  test('a vote without the API proof, or with a proof of another message, is refused and the approval stays pending', async () => {
    const { handle, script } = await start({
      plan: [{ kind: 'call', call: REFUND }],
      policy: () => ({ outcome: 'require_approval', reason: 'large refund', approval: { group: 'finance', quorum: 1, expiresAfterMs: 72 * HOUR } }),
    });
    const a = (await waitFor(handle, (v) => v.status === 'awaiting_approval')).pendingApprovals[0]!;
    // Straight to Temporal, as the CLI or the UI's update action would send it: no proof.
    const forged: DecideApprovalInput = { approvalId: a.approvalId, decision: 'approve', approver: { subject: 'mallory', groups: ['finance'] } };
    assert.equal(await refused(handle.executeUpdate(decideApprovalUpdate, { args: [forged] })), 'Forbidden');
    // A real proof, lifted from bob's rejection and put on an approval.
    const bobs = (await vote('bob', ['finance'], { approvalId: a.approvalId, decision: 'reject' })).args[0];
    assert.equal(await refused(handle.executeUpdate(decideApprovalUpdate, { args: [{ ...bobs, decision: 'approve' }] })), 'Forbidden');
    // A made-up signature.
    assert.equal(await refused(handle.executeUpdate(decideApprovalUpdate, { args: [{ ...forged, proof: `${bobs.proof!.slice(0, -4)}AAAA` }] })), 'Forbidden');
    const still = await handle.query(getRunQuery);
    assert.equal(still.status, 'awaiting_approval');
    assert.deepEqual(still.pendingApprovals[0]!.votes, []);
    assert.deepEqual(script.called, []);
    await handle.executeUpdate(decideApprovalUpdate, await vote('bob', ['finance'], { approvalId: a.approvalId, decision: 'approve' }));
    assert.equal((await handle.result()).status, 'completed');
    assert.deepEqual(script.called, [REFUND]);
  });

  test('a run that fails after a change ran leaves a reconciliation record: what ran, what did not', async () => {
    const NOTE: ToolCall = { server: 'crm', tool: 'add_note', args: { accountId: 'C-1', note: 'refunded' } };
    const { handle } = await start({
      plan: [
        { kind: 'call', call: REFUND },
        { kind: 'call', call: NOTE },
      ],
      policy: () => ({ outcome: 'allow', reason: 'ok' }),
      failing: ['add_note'],
    });
    await assert.rejects(handle.result());
    const v = await handle.query(getRunQuery);
    assert.equal(v.status, 'failed');
    assert.deepEqual(
      v.reconciliation?.done.map((d) => [d.step, d.tool]),
      [[0, 'billing.issue_refund']],
    );
    assert.deepEqual(
      v.reconciliation?.notDone.map((d) => [d.step, d.tool, d.status]),
      [[1, 'crm.add_note', 'failed']],
    );
    assert.match(v.reconciliation!.reason, /ended failed after 1 change to business systems \(billing\.issue_refund\)/);
  });

  test('a run that changed nothing has no reconciliation record', async () => {
    const { handle } = await start({ plan: [{ kind: 'call', call: REFUND }], policy: () => ({ outcome: 'allow', reason: 'ok' }), failing: ['issue_refund'] });
    await assert.rejects(handle.result());
    const v = await handle.query(getRunQuery);
    assert.equal(v.status, 'failed');
    assert.equal(v.reconciliation, undefined);
  });

  test('an edit is re-decided by policy: an allowed edit runs with the edited args, under a new approval', async () => {
    const { handle, script } = await start({
      plan: [{ kind: 'call', call: REFUND }],
      policy: (args) =>
        Number(args.amount) > 500 ? { outcome: 'require_approval', reason: 'over 500', approval: { group: 'finance', quorum: 1, expiresAfterMs: HOUR } } : { outcome: 'allow', reason: 'small' },
    });
    const a = (await waitFor(handle, (v) => v.status === 'awaiting_approval')).pendingApprovals[0]!;
    const edited = await handle.executeUpdate(decideApprovalUpdate, await vote('bob', ['finance'], { approvalId: a.approvalId, decision: 'approve', args: { invoiceId: 'INV-1', amount: 400 } }));
    assert.equal(edited.status, 'approved');
    assert.equal(edited.replaces, a.approvalId);
    assert.equal(edited.editedBy, 'bob');
    const done = await handle.result();
    assert.equal(done.approvals.find((x) => x.approvalId === a.approvalId)!.status, 'superseded');
    assert.deepEqual(
      script.called.map((c) => c.args.amount),
      [400],
    );
  });

  test('an unanswered approval expires on its durable timer: the run is rejected and the tool never called', async () => {
    const { handle, script } = await start({
      plan: [{ kind: 'call', call: REFUND }],
      policy: () => ({ outcome: 'require_approval', reason: 'large refund', approval: { group: 'finance', quorum: 1, expiresAfterMs: 2 * HOUR } }),
    });
    await waitFor(handle, (v) => v.status === 'awaiting_approval');
    const done = await rejectedView(handle); // the time-skipping server jumps to the expiry timer
    assert.equal(done.status, 'rejected');
    assert.equal(done.approvals[0]!.status, 'expired');
    assert.deepEqual(script.called, []);
  });

  test('a rejection ends the run rejected, with who rejected it', async () => {
    const { handle, script } = await start({
      plan: [{ kind: 'call', call: REFUND }],
      policy: () => ({ outcome: 'require_approval', reason: 'large refund', approval: { group: 'finance', quorum: 3, expiresAfterMs: HOUR } }),
    });
    const a = (await waitFor(handle, (v) => v.status === 'awaiting_approval')).pendingApprovals[0]!;
    await handle.executeUpdate(decideApprovalUpdate, await vote('bob', ['finance'], { approvalId: a.approvalId, decision: 'reject', comment: 'duplicate' }));
    const done = await rejectedView(handle);
    assert.equal(done.status, 'rejected');
    assert.deepEqual(done.result, { reason: 'rejected by bob', approvalId: a.approvalId });
    assert.deepEqual(script.called, []);
  });
});
