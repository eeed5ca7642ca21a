// The audit story of a finished run, checked against the run itself: every event once per occurrence.
import assert from 'node:assert/strict';
import type { AuditRecord } from '../../src/audit/types.js';
import type { RunView } from '../../src/core/types.js';
import type { TestStack } from './stack.js';

export async function runAudit(s: TestStack, runId: string): Promise<AuditRecord[]> {
  const res = await s.call('GET', `/v1/runs/${runId}/audit`, { token: await s.token('olivia') });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.records;
}

export const countOf = (records: AuditRecord[], type: string, pred: (r: AuditRecord) => boolean = () => true) => records.filter((r) => r.type === type && pred(r)).length;

/** Asserts the trail of a finished run has each event exactly as often as it happened, in one unbroken chain. */
export async function assertAuditStory(s: TestStack, run: RunView): Promise<AuditRecord[]> {
  const records = await runAudit(s, run.runId);
  const story = JSON.stringify(records.map((r) => [r.type, r.tool, r.outcome]));
  assert.deepEqual(
    records.map((r) => r.chainSeq),
    records.map((_, i) => i + 1),
    'one unbroken chain',
  );
  assert.equal(new Set(records.map((r) => r.eventId)).size, records.length);
  assert.equal(countOf(records, 'run.started'), 1, story);
  assert.equal(records[0]!.type, 'run.started');
  assert.equal(countOf(records, `run.${run.status}`), 1, story);
  assert.equal(records.at(-1)!.type, `run.${run.status}`, story);
  const decided = run.steps.filter((x) => x.decision);
  for (const type of ['tool.proposed', 'tool.validated', 'policy.decided']) {
    // Edits re-decide a step; without edits each step is decided once.
    assert.equal(countOf(records, type), decided.length + run.approvals.filter((a) => a.replaces).length, `${type}: ${story}`);
  }
  for (const step of run.steps) {
    const [server, ...rest] = step.tool.split('.');
    const executed = countOf(records, 'tool.executed', (r) => r.server === server && r.tool === rest.join('.') && r.data.step === step.index);
    assert.equal(executed, ['completed', 'failed'].includes(step.status) ? 1 : 0, `tool.executed of step ${step.index} ${step.tool}: ${story}`);
  }
  if (run.status === 'completed') assert.equal(countOf(records, 'model.routed'), run.steps.length + 1, `one routing per plan call: ${story}`);
  assert.equal(countOf(records, 'approval.requested'), run.approvals.length, story);
  assert.equal(
    countOf(records, 'approval.decided'),
    run.approvals.reduce((n, a) => n + a.votes.length, 0),
    story,
  );
  assert.equal(countOf(records, 'approval.expired'), run.approvals.filter((a) => a.status === 'expired').length, story);
  assert.ok(
    records.every((r) => r.principal && r.runId === run.runId),
    'every record names who and which run',
  );
  return records;
}
