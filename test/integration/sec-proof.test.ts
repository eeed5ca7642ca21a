// Temporal access is not approval power: a decision or an answer sent straight to Temporal (the CLI, the
// Temporal UI's update action) carries no proof from the API and is refused; the item stays pending and
// nothing runs. Only the API, having verified the person's token, can speak for them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cancelRunUpdate, decideApprovalUpdate, provideInputUpdate } from '../../workflows/definitions.js';
import { startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

describe('proof-carrying decisions (real stack; a bare Temporal client, as the CLI or the UI would send it, is the forger)', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack();
  });
  after(async () => {
    await s?.cleanup();
  });

  test('a vote sent straight to Temporal is refused; the approval stays pending and the refund does not run', async () => {
    const runId = await s.startRun({ customerId: 'C-1001', invoiceId: 'INV-2005', amount: 600, message: 'Please refund.' });
    const a = (await s.waitForRun(runId, (v) => v.status === 'awaiting_approval', 120_000)).pendingApprovals[0]!;
    const handle = s.client.workflow.getHandle(runId);
    const refusal = async (input: Record<string, unknown>) => {
      try {
        await handle.executeUpdate(decideApprovalUpdate, { args: [input as never] });
      } catch (err) {
        return String((err as { cause?: unknown }).cause ?? err);
      }
      assert.fail('the forged update was accepted');
    };
    const forged = { approvalId: a.approvalId, decision: 'approve', approver: { subject: 'mallory', groups: ['finance'] } };
    assert.match(await refusal(forged), /no proof from the Airlock API/);
    // A proof-shaped string is no better.
    assert.match(await refusal({ ...forged, proof: 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA' }), /proof does not verify/);

    const still = await s.waitForRun(runId, () => true);
    assert.equal(still.status, 'awaiting_approval');
    assert.deepEqual(still.pendingApprovals[0]!.votes, []);
    assert.equal(s.refunds(runId).length, 0);
    const audit = await s.call('GET', `/v1/runs/${runId}/audit`, { token: await s.token('olivia') });
    assert.ok(!JSON.stringify(audit.body).includes('mallory'), 'the forger never reaches the audit trail');

    // Through the API the same approval works, and bob is who the record names.
    const bob = await s.token('bob');
    await waitFor(
      () => s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: bob, body: { decision: 'approve' } }),
      (res) => res.status === 200,
      120_000,
      "bob's approval through the API",
    );
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
    assert.deepEqual(
      done.approvals[0]!.votes.map((v) => v.by),
      ['bob'],
    );
    assert.equal(s.refunds(runId).length, 1);
  });

  test('an answer to an interrupt sent straight to Temporal is refused; the question stays pending', async () => {
    const res = await s.call('POST', '/v1/runs', {
      token: await s.token('alice'),
      body: { agent: 'dispute-triage', input: { customerId: 'C-1001', invoiceId: 'INV-2005', message: 'Charged twice for March.' } },
    });
    assert.equal(res.status, 202);
    const runId: string = res.body.runId;
    const q = (await s.waitForRun(runId, (v) => v.status === 'awaiting_input', 120_000)).pendingInputs![0]!;
    let refused = '';
    try {
      await s.client.workflow.getHandle(runId).executeUpdate(provideInputUpdate, { args: [{ inputId: q.inputId, value: 5000, answerer: { subject: 'alice', groups: ['support'] } }] });
    } catch (err) {
      refused = String((err as { cause?: unknown }).cause ?? err);
    }
    assert.match(refused, /no proof from the Airlock API/);
    const still = await s.waitForRun(runId, () => true);
    assert.equal(still.status, 'awaiting_input');
    assert.equal(still.pendingInputs![0]!.status, 'pending');
    // A cancellation that names a person needs the same proof.
    let cancelRefused = '';
    try {
      await s.client.workflow.getHandle(runId).executeUpdate(cancelRunUpdate, { args: [{ by: { subject: 'alice', groups: ['support'] } }] });
    } catch (err) {
      cancelRefused = String((err as { cause?: unknown }).cause ?? err);
    }
    assert.match(cancelRefused, /no proof from the Airlock API/);
    assert.equal((await s.waitForRun(runId, () => true)).status, 'awaiting_input');
    assert.equal((await s.call('POST', `/v1/runs/${runId}/cancel`, { token: await s.token('alice') })).status, 202);
    const cancelled = await s.waitForRun(runId, (v) => v.status === 'cancelled');
    assert.equal(cancelled.cancelledBy, 'alice');
  });
});
