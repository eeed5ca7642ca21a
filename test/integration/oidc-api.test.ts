// The API with `identity.issuer: oidc`: tokens from a real OpenID Provider start, see and approve runs;
// tokens the provider did not sign (including the dev issuer's) are refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_INPUT, startTestStack, type TestStack } from '../helpers/stack.js';
import { signingKey, startProvider, userToken, type RunningProvider } from '../helpers/oidcProvider.js';

describe('REST API behind an OIDC provider', () => {
  let op: RunningProvider;
  let s: TestStack;
  before(async () => {
    const key = await signingKey('k1');
    op = await startProvider(key.jwk, 0, {
      alice: { groups: ['support'], roles: ['requester'] },
      // Roles can also come from IdP groups through roleMappings.
      bob: { groups: ['finance', 'airlock-approvers'] },
    });
    s = await startTestStack({
      overrides: (cfg) => {
        cfg.identity = { ...cfg.identity, issuer: 'oidc', oidc: { issuer: op.issuer, audience: 'airlock-api', roleMappings: { 'airlock-approvers': ['approver'] } } };
      },
    });
  });
  after(async () => {
    await s?.cleanup();
    await op?.close();
  });

  test('a provider-issued user token starts a run, another approves it', async () => {
    const alice = await userToken(op, 'alice');
    const bob = await userToken(op, 'bob');
    const res = await s.call('POST', '/v1/runs', { token: alice, body: { agent: 'refund-assistant', input: DEMO_INPUT } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const runId = res.body.runId as string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the run view, read field by field
    let view: any;
    for (let i = 0; i < 100; i++) {
      view = (await s.call('GET', `/v1/runs/${runId}`, { token: alice })).body;
      if (view.status === 'awaiting_approval') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(view.status, 'awaiting_approval');
    assert.deepEqual(view.identity, { kind: 'user', subject: 'alice', groups: ['support'] });
    const a = view.pendingApprovals[0];
    assert.equal((await s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: alice, body: { decision: 'approve' } })).status, 403);
    const ok = await s.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: bob, body: { decision: 'approve' } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.approval.decidedBy, 'bob');
  });

  test('dev-issuer tokens and garbage are refused with 401 when OIDC is configured', async () => {
    const dev = await s.issuer.mint('alice');
    const res = await s.call('POST', '/v1/runs', { token: dev, body: { agent: 'refund-assistant', input: DEMO_INPUT } });
    assert.equal(res.status, 401);
    assert.equal((await s.call('GET', '/v1/approvals', { token: 'not.a.jwt' })).status, 401);
  });
});
