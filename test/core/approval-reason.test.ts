// The reason an approval carries tells the requirement that applies: the demo policy asks for 72h and an
// escalation after 24h, and an agent configured with a 30 s window (`AIRLOCK_APPROVAL_EXPIRY=30s`)
// shortens both, so the text says 30s and no escalation, as the approval's own deadlines do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalFor, effectiveReason, openApproval } from '../../src/core/approvals.js';
import { agentSpec, loadConfig } from '../../src/config/load.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { testEnv } from '../helpers/stack.js';

const NOW = Date.parse('2026-03-04T10:15:00.000Z');

async function approvalWithExpiry(expiry: string) {
  const config = loadConfig({ env: await testEnv({ env: { AIRLOCK_APPROVAL_EXPIRY: expiry } }) });
  const agent = agentSpec(config, 'refund-assistant');
  const policy = PolicyEngine.load(config.policy.dir).evaluate({
    principal: { kind: 'user', id: 'alice', groups: ['support'] },
    agent: agent.name,
    phase: agent.phase,
    server: 'billing',
    tool: 'issue_refund',
    toolInfo: { readOnly: false, destructive: true, idempotent: true, classification: 'confidential' },
    args: { invoiceId: 'INV-2001', amount: 1250, currency: 'USD', reason: 'duplicate charge', idempotencyKey: 'run-1/step-4' },
    runId: 'run-1',
    now: new Date(NOW).toISOString(),
  });
  const approval = approvalFor(policy, { write: true, phase: agent.phase, defaults: agent.approvalDefaults })!;
  const decision = { ...policy, outcome: 'require_approval' as const, approval, write: true, idempotent: true, args: {}, digest: 'd' };
  return openApproval({ runId: 'run-abc', step: 3, tool: 'billing.issue_refund', decision, requestedBy: 'alice', now: NOW, revision: 0 });
}

test('a 30s agent window: the reason says 30s and drops the escalation that would come after expiry', async () => {
  const a = await approvalWithExpiry('30s');
  assert.equal(a.reason, 'billing.issue_refund needs approval by a member of finance, expiring after 30s (policy refund-finance-approval)');
  assert.equal(a.expiresAt, new Date(NOW + 30_000).toISOString());
  assert.equal(a.escalateTo, undefined);
});

test("the default window: the policy's own wording stands", async () => {
  const a = await approvalWithExpiry('72h');
  assert.equal(a.reason, 'billing.issue_refund needs approval by a member of finance (escalating to finance-leads after 24h), expiring after 72h (policy refund-finance-approval)');
  assert.equal(a.escalateTo, 'finance-leads');
});

test('a window between escalation and the policy expiry keeps the escalation', () => {
  const reason = 'x needs approval by a member of finance (escalating to finance-leads after 24h), expiring after 72h (policy p)';
  assert.equal(
    effectiveReason(reason, { group: 'finance', quorum: 1, expiresAfterMs: 48 * 3_600_000, escalateTo: 'finance-leads', escalateAfterMs: 24 * 3_600_000 }),
    'x needs approval by a member of finance (escalating to finance-leads after 24h), expiring after 48h (policy p)',
  );
});
