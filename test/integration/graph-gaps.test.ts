// Gaps in the graph-agent coverage, on the real stack (Temporal dev server, worker bundle with the fixture agent
// modules, demo MCP servers, Cedar policies, API): a compiled child graph as a node of its parent, an approval
// rejected inside a custom graph (ending the run, or handed back with `onRejected: 'return'`), and the digest an
// executed call carries after an approver edited it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/types.js';
import { ROOT } from '../../src/config/load.js';
import { callDigest } from '../../src/core/canonical.js';
import type { RunView } from '../../src/core/types.js';
import { runAudit } from '../helpers/audit.js';
import { DEMO_INPUT, startTestStack, type TestStack } from '../helpers/stack.js';

describe('graph agents: subgraphs, rejections inside a graph, edited approvals', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack({
      overrides: (cfg) => {
        cfg.agents['subgrapher'] = {
          ...cfg.agents['refund-react']!,
          graph: join(ROOT, 'test/fixtures/graphs/subgraph.ts'),
          servers: ['crm', 'ticketing'],
          playbook: [],
          inputSchema: { type: 'object', required: ['customerId'], properties: { customerId: { type: 'string' } } },
        };
        // The refund policies name these agents: each runs a fixture graph here instead of its example.
        cfg.agents['dispute-triage'] = { ...cfg.agents['dispute-triage']!, graph: join(ROOT, 'test/fixtures/graphs/refund-gated.ts') };
        cfg.agents['refund-react'] = { ...cfg.agents['refund-react']!, graph: join(ROOT, 'test/fixtures/graphs/refund-gated-return.ts'), playbook: [] };
      },
    });
  });
  after(async () => {
    await s?.cleanup();
  });

  const start = async (agent: string, input: Record<string, unknown>, user = 'alice') => {
    const res = await s.call('POST', '/v1/runs', { token: await s.token(user), body: { agent, input } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.runId as string;
  };
  const decide = async (approvalId: string, body: Record<string, unknown>, user = 'bob') => s.call('POST', `/v1/approvals/${approvalId}/decision`, { token: await s.token(user), body });
  /** The refund waiting for finance in a run of `agent` (600 USD on INV-2001: one finance approver). */
  const awaitingRefund = async (agent: string, message: string) => {
    const runId = await start(agent, { customerId: 'C-1001', invoiceId: 'INV-2001', message, amount: 600 });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval', 120_000);
    assert.equal(waiting.pendingApprovals.length, 1);
    const a = waiting.pendingApprovals[0]!;
    assert.deepEqual([a.tool, a.requiredGroup, a.policyIds, a.args.amount], ['billing.issue_refund', 'finance', ['refund-finance-approval'], 600]);
    assert.deepEqual(
      waiting.steps.map((x) => [x.tool, x.node, x.status]),
      [
        ['billing.get_invoice', 'read_invoice', 'completed'],
        ['billing.issue_refund', 'refund', 'awaiting_approval'],
      ],
    );
    assert.deepEqual(s.refunds(runId), [], 'nothing refunded before the decision');
    return { runId, approvalId: a.approvalId };
  };

  test('a compiled child graph as a node: its governed read and the parent’s write both run, and the path shows the nodes', async () => {
    const runId = await start('subgrapher', { customerId: 'C-1002' });
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(
      done.steps.map((x) => [x.tool, x.status, x.decision?.outcome, x.result?.isError]),
      [
        ['crm.get_account', 'completed', 'allow', false],
        ['ticketing.create_ticket', 'completed', 'allow', false],
      ],
      JSON.stringify(done.steps),
    );
    assert.equal(done.steps[0]!.args.accountId, 'C-1002', 'the child read the account the parent state named');
    assert.deepEqual(done.steps[0]!.decision!.policyIds, ['read-only-tools']);
    assert.deepEqual(done.steps[1]!.decision!.policyIds, ['ticket-writes']);
    // The write ran in the parent's node; the read, in the child graph (its own node's name).
    assert.equal(done.steps[1]!.node, 'open_ticket');
    assert.equal(done.steps[0]!.node, 'fetch_account', `node of the child's call: ${String(done.steps[0]!.node)}`);
    // The path is the parent's nodes, in order: the child's own nodes (fetch_account, mark) run inside `lookup` and are
    // not listed, though the child's step names its node (above).
    assert.deepEqual(done.path, ['lookup', 'open_ticket']);
    // The child's state flowed back into the parent: the ticket is about the account the child read.
    const result = done.result as { account: { accountId: string; name: string }; ticketId: string };
    assert.equal(result.account.accountId, 'C-1002');
    assert.equal(result.ticketId, (done.steps[1]!.result!.data as { ticketId: string }).ticketId);
    assert.equal(done.steps[1]!.args.subject, `Follow-up for ${result.account.name}`);
  });

  test('an approval rejected inside a custom graph ends the run rejected (the default), and the refund is never made', async () => {
    const { runId, approvalId } = await awaitingRefund('dispute-triage', 'gaps: rejected ends the run');
    const res = await decide(approvalId, { decision: 'reject', comment: 'not a double charge' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.approval.status, 'rejected');
    const done = await s.waitForRun(runId, (v) => v.status === 'rejected', 120_000);
    assert.deepEqual(
      done.steps.map((x) => [x.tool, x.status]),
      [
        ['billing.get_invoice', 'completed'],
        ['billing.issue_refund', 'rejected'],
      ],
      'the graph went no further: no ticket',
    );
    assert.deepEqual([done.approvals.length, done.approvals[0]!.status, done.approvals[0]!.decidedBy], [1, 'rejected', 'bob']);
    assert.equal(done.pendingApprovals.length, 0);
    const outcome = done.result as { reason?: string; approvalId?: string };
    assert.equal(outcome.approvalId, approvalId, JSON.stringify(done.result));
    assert.match(String(outcome.reason), /rejected by bob/);
    assert.equal(done.path?.includes('report'), false, `path: ${JSON.stringify(done.path)}`);
    assert.deepEqual(s.refunds(runId), [], 'no refund after a rejection');
    const records = await runAudit(s, runId);
    assert.equal(records.filter((r) => r.type === 'tool.executed' && r.tool === 'issue_refund').length, 0, 'the refund was never called');
    assert.equal(records.at(-1)!.type, 'run.rejected');
  });

  test("onRejected: 'return' hands the rejection to the graph as the tool's result; the graph goes on and the run completes", async () => {
    const { runId, approvalId } = await awaitingRefund('refund-react', 'gaps: rejection returned to the graph');
    const res = await decide(approvalId, { decision: 'reject', comment: 'customer already credited' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(
      done.steps.map((x) => [x.tool, x.node, x.status]),
      [
        ['billing.get_invoice', 'read_invoice', 'completed'],
        ['billing.issue_refund', 'refund', 'rejected'],
        ['ticketing.create_ticket', 'report', 'completed'],
      ],
    );
    const result = done.result as { refundResult: { ok: boolean; content: string }; ticketId: string };
    assert.equal(result.refundResult.ok, false, 'the refund came back as an error result');
    assert.match(result.refundResult.content, new RegExp(`^Not approved: rejected by bob \\(approval ${approvalId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    const ticket = done.steps[2]!;
    assert.match(String(ticket.args.body), /The refund was not made: Not approved: rejected by bob/);
    assert.equal(result.ticketId, (ticket.result!.data as { ticketId: string }).ticketId);
    assert.deepEqual(done.path, ['read_invoice', 'refund', 'report']);
    assert.deepEqual([done.approvals.length, done.approvals[0]!.status], [1, 'rejected']);
    assert.deepEqual(s.refunds(runId), [], 'no refund after a rejection');
    const records = await runAudit(s, runId);
    assert.equal(records.filter((r) => r.type === 'tool.executed' && r.tool === 'issue_refund').length, 0, 'the refund was never called');
    assert.equal(records.at(-1)!.type, 'run.completed');
  });

  test('an edited approval: tool.executed carries the digest of the approved (edited) approval, not the superseded one', async () => {
    // refund-assistant, the built-in agent: 600 USD on INV-2001 waits for one finance approver.
    const runId = await s.startRun({ ...DEMO_INPUT, amount: 600 });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval', 120_000);
    const original = waiting.pendingApprovals[0]!;
    assert.deepEqual([original.tool, original.requiredGroup, original.args.amount], ['billing.issue_refund', 'finance', 600]);
    const res = await decide(original.approvalId, { decision: 'approve', args: { ...original.args, amount: 400 }, comment: 'partial refund' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const edited = res.body.approval as { approvalId: string; status: string; digest: string; replaces: string; editedBy: string };
    assert.deepEqual([edited.status, edited.replaces, edited.editedBy], ['approved', original.approvalId, 'bob']);
    assert.notEqual(edited.digest, original.digest, 'the edit is bound to other args');

    const done: RunView = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    const step = done.steps.find((x) => x.tool === 'billing.issue_refund')!;
    assert.equal(step.args.amount, 400);
    assert.deepEqual(
      done.approvals.map((a) => [a.approvalId, a.status, a.digest]),
      [
        [original.approvalId, 'superseded', original.digest],
        [edited.approvalId, 'approved', edited.digest],
      ],
    );
    assert.deepEqual(
      s.refunds(runId).map((r) => [r.invoice_id, r.amount_cents]),
      [['INV-2001', 40_000]],
    );
    // The edited approval's digest is the digest of the call that ran (its args under the policy version that decided it).
    assert.equal(edited.digest, callDigest('billing', 'issue_refund', step.args, step.decision!.policyVersion));

    const records = await runAudit(s, runId);
    const executed = records.filter((r) => r.type === 'tool.executed' && r.server === 'billing' && r.tool === 'issue_refund');
    assert.equal(executed.length, 1, JSON.stringify(executed));
    const data = executed[0]!.data as { step: number; digest: string; args: { amount: number } };
    assert.equal(data.step, step.index);
    assert.equal(data.args.amount, 400);
    assert.equal(data.digest, edited.digest, 'tool.executed names the approval that was approved');
    assert.notEqual(data.digest, original.digest, 'not the superseded approval');
    // The trail ties them together: the digest the executed record names is the one the edited approval was requested with.
    const requested = (id: string) => records.find((r: AuditRecord) => r.type === 'approval.requested' && (r.data as { approvalId?: string }).approvalId === id);
    assert.equal((requested(edited.approvalId)?.data as { digest?: string } | undefined)?.digest, data.digest);
    assert.equal((requested(original.approvalId)?.data as { digest?: string } | undefined)?.digest, original.digest);
  });
});
