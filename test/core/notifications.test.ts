// Notification routing and the notifications config: which channels an event goes to, what a run pins, and what
// the config refuses (a route to a channel that does not exist, email without SMTP, a secret written inline).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalNotification, channelsFor, type NotifyRoute } from '../../src/core/notifications.js';
import { notifySpec } from '../../src/config/notifications.js';
import { FileConfigSchema } from '../../src/config/schema.js';
import type { Approval } from '../../src/core/types.js';

const routes: NotifyRoute[] = [
  { events: ['approval.requested', 'approval.escalated'], groups: ['finance'], channels: ['slack', 'mail'] },
  { events: ['approval.escalated'], groups: ['finance-leads'], channels: ['pager'] },
  { events: ['approval.requested', 'input.requested'], channels: ['hook', 'slack'] },
];

const approval: Approval = {
  approvalId: 'run-1.a3',
  runId: 'run-1',
  step: 3,
  tool: 'billing.issue_refund',
  args: { amount: 1250 },
  digest: 'd',
  policyVersion: 'v',
  policyIds: ['p'],
  reason: 'refunds need finance',
  requiredGroup: 'finance',
  quorum: 1,
  escalateTo: 'finance-leads',
  escalatesAt: '2030-01-01T00:00:00.000Z',
  escalated: false,
  requestedBy: 'alice',
  requestedAt: '2029-12-31T00:00:00.000Z',
  expiresAt: '2030-01-03T00:00:00.000Z',
  status: 'pending',
  votes: [],
};
const run = { runId: 'run-1', agent: 'refund-assistant', requester: 'alice' };

test('routes pick channels by event and by the groups that may act, each channel once', () => {
  const requested = approvalNotification('approval.requested', approval, run, approval.requestedAt);
  assert.equal(requested.delivery, 'run-1/run-1.a3/approval.requested');
  assert.deepEqual(requested.groups, ['finance']);
  assert.deepEqual(channelsFor(routes, requested), ['slack', 'mail', 'hook']);
  // After escalation the leads may decide too: their route joins.
  const escalated = approvalNotification('approval.escalated', { ...approval, escalated: true }, run, approval.escalatesAt!);
  assert.deepEqual(escalated.groups, ['finance', 'finance-leads']);
  assert.deepEqual(channelsFor(routes, escalated), ['slack', 'mail', 'pager']);
  assert.deepEqual(channelsFor(routes, { event: 'approval.expired', groups: ['finance'] }), []);
});

const base = { agents: {}, servers: {} };

test('the config: routes name existing channels, email needs smtp, secrets are references; runs pin their agent’s routes', () => {
  const ok = FileConfigSchema.parse({
    ...base,
    notifications: {
      channels: { hook: { kind: 'webhook', url: 'https://hooks.example.test/a', secret: { env: 'HOOK_SECRET' } }, chat: { kind: 'slack', url: { env: 'SLACK_URL' } } },
      routes: [
        { events: ['approval.requested'], agents: ['refund-assistant'], channels: ['hook'] },
        { events: ['approval.expired'], agents: ['other'], channels: ['chat'] },
      ],
    },
  });
  assert.deepEqual(notifySpec(ok.notifications, 'refund-assistant'), {
    routes: [{ events: ['approval.requested'], channels: ['hook'] }],
    delivery: { maximumAttempts: 5, initialIntervalMs: 1_000, timeoutMs: 10_000 },
  });
  assert.equal(notifySpec(ok.notifications, 'nobody'), undefined, 'no route applies: nothing is pinned, nothing scheduled');
  assert.equal(notifySpec(undefined, 'refund-assistant'), undefined);

  const issues = (notifications: unknown) => FileConfigSchema.safeParse({ ...base, notifications }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
  assert.deepEqual(issues({ routes: [{ events: ['approval.requested'], channels: ['nope'] }] }), ['notifications.routes.0.channels.0: no channel "nope" in notifications.channels']);
  assert.deepEqual(issues({ channels: { m: { kind: 'email', to: ['a@example.test'] } } }), ['notifications.channels.m: an email channel needs notifications.smtp']);
  assert.equal(issues({ channels: { c: { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/secret' } } }).length, 1, 'a Slack URL written inline is refused');
  assert.equal(issues({ routes: [{ events: ['run.started'], channels: [] }] }).length > 0, true, 'unknown events and empty channel lists are refused');
});
