// Log lines written inside an activity carry its workflow (the Airlock run) and activity.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log/logger.js';

test('activity logs carry workflowId, workflowRunId and activityType; others do not', async () => {
  const lines: string[] = [];
  const log = createLogger('info', 'test', { write: (l: string) => void lines.push(l) });
  const env = new MockActivityEnvironment({ activityType: 'callTool', workflowExecution: { workflowId: 'run-abc', runId: 'temporal-run-1' } });
  await env.run(async () => log.child({ component: 'mcp' }).info('inside'));
  log.info('outside');
  const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(inside!.workflowId, 'run-abc');
  assert.equal(inside!.workflowRunId, 'temporal-run-1');
  assert.equal(inside!.activityType, 'callTool');
  assert.equal(outside!.workflowId, undefined);
});
