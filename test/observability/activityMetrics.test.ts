// The worker's activity interceptor counts tool calls, policy decisions and MCP errors without changing
// what the activity returns or throws.
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { activityMetricsInterceptors, mcpErrorKind } from '../../src/observability/activityMetrics.js';
import { observeApprovalDecision, registry } from '../../src/observability/metrics.js';

const ctxOf = (activityType: string, aborted = false) => ({ info: { activityType }, cancellationSignal: aborted ? AbortSignal.abort() : new AbortController().signal }) as unknown as Context;
const run = (activityType: string, args: unknown[], next: () => Promise<unknown>) => activityMetricsInterceptors(ctxOf(activityType)).inbound!.execute!({ args, headers: {} }, next);
const value = async (name: string, labels: Record<string, string>) => {
  const m = (await registry.getSingleMetric(name)!.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return m.reduce((s, v) => s + v.value, 0);
};

describe('activity metrics interceptor', () => {
  test('callTool: success, tool error and failure, with the MCP error kind', async () => {
    const call = { runId: 'run-x', step: 1, call: { server: 'crm', tool: 'get_account', args: { secret: 'no' } } };
    assert.deepEqual(await run('callTool', [call], async () => ({ isError: false, data: 1 })), { isError: false, data: 1 });
    await run('callTool', [call], async () => ({ isError: true, data: 'nope' }));
    const refused = ApplicationFailure.nonRetryable('quarantined', 'RegistryRefused');
    await assert.rejects(
      run('callTool', [call], async () => Promise.reject(refused)),
      (e) => e === refused,
    );
    assert.equal(await value('airlock_tool_calls_total', { server: 'crm', tool: 'get_account', outcome: 'success' }), 1);
    assert.equal(await value('airlock_tool_calls_total', { server: 'crm', tool: 'get_account', outcome: 'tool_error' }), 1);
    assert.equal(await value('airlock_tool_calls_total', { server: 'crm', tool: 'get_account', outcome: 'failure' }), 1);
    assert.equal(await value('airlock_mcp_errors_total', { server: 'crm', kind: 'RegistryRefused' }), 1);
    assert.ok(!(await registry.metrics()).includes('secret'), 'args never become labels');
  });

  test('decide: counts the outcome, and a failed decision as error', async () => {
    await run('decide', [{}], async () => ({ outcome: 'deny' }));
    await assert.rejects(run('decide', [{}], async () => Promise.reject(new Error('engine down'))));
    assert.equal(await value('airlock_policy_decisions_total', { outcome: 'deny' }), 1);
    assert.equal(await value('airlock_policy_decisions_total', { outcome: 'error' }), 1);
    assert.equal(await value('airlock_policy_decisions_total', { outcome: 'allow' }), 0);
  });

  test('other activities pass through untouched', async () => {
    assert.equal(await run('plan', [{}], async () => 'planned'), 'planned');
  });

  test('error kinds', () => {
    assert.equal(mcpErrorKind(ApplicationFailure.nonRetryable('x', 'ServerNotFound')), 'ServerNotFound');
    assert.equal(mcpErrorKind(new McpError(ErrorCode.RequestTimeout, 'slow')), 'timeout');
    assert.equal(mcpErrorKind(new McpError(ErrorCode.InternalError, 'bad')), 'protocol');
    assert.equal(mcpErrorKind(new TypeError('fetch failed')), 'other');
    assert.equal(mcpErrorKind(new Error('aborted'), true), 'cancelled');
  });

  test('approval decision latency: only decisions, from requestedAt to decidedAt', async () => {
    observeApprovalDecision({ status: 'pending', requestedAt: '2026-01-01T00:00:00Z' });
    observeApprovalDecision({ status: 'rejected', requestedAt: '2026-01-01T00:00:00Z', decidedAt: '2026-01-01T00:02:00Z' });
    const text = await registry.metrics();
    assert.match(text, /^airlock_approval_decision_latency_seconds_sum\{decision="rejected"\} 120$/m);
    assert.deepEqual(text.match(/^airlock_approval_decision_latency_seconds_count.*$/gm), ['airlock_approval_decision_latency_seconds_count{decision="rejected"} 1']);
  });
});
