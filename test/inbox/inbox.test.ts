// The approver inbox in a real browser (Debian's Chromium through playwright-core) against a whole stack: alice
// starts a refund from the form, approvers see it appear live and decide it, quorum, edits, expiry, refusals,
// sessions, and the pages at 390 px. Each scenario uses its own demo invoice (examples/mcp/billing.ts), with an
// amount within what the invoice can still refund.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ensureChromium, launchBrowser, type WatchedPage } from '../helpers/browser.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { assertNoHorizontalOverflow, assertNotReloaded, editArgs, go, mark, screenshot, signedIn } from './pages.js';

/** Refused decisions the page shows on purpose; the browser logs their HTTP status as a console error. */
const EXPECTED_REFUSALS = [/Failed to load resource: the server responded with a status of (409|422)/];

describe('approver inbox', { timeout: 240_000 }, () => {
  let stack: TestStack;
  let browser: Browser;
  const pages: WatchedPage[] = [];
  const user = async (name: string, width = 1280) => {
    const w = await signedIn(browser, stack.apiUrl, name, width);
    pages.push(w);
    return w;
  };
  const approvalOf = async (runId: string) => (await stack.waitForRun(runId, (v) => v.pendingApprovals.length > 0)).pendingApprovals[0]!;

  before(async () => {
    ensureChromium();
    // refund-react's approvals expire after 6 s: the expiry scenario uses it; everything else waits 72 h.
    stack = await startTestStack({ overrides: (cfg) => void (cfg.agents['refund-react']!.approvals.expiresAfter = 6_000) });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.cleanup();
  });

  test('alice starts a refund from the form; bob sees it appear live and approves it; the run completes', async () => {
    const [alice, bob, carol] = [await user('alice'), await user('bob'), await user('carol')];
    await go(bob.page, stack.apiUrl, '/pending');
    await go(carol.page, stack.apiUrl, '/pending');
    await Promise.all([mark(bob.page), mark(carol.page)]);

    await go(alice.page, stack.apiUrl, '/start');
    await alice.page.getByLabel('Agent').selectOption('refund-assistant');
    await alice.page.getByLabel(/^customerId/).fill('C-1001');
    await alice.page.getByLabel(/^invoiceId/).fill('INV-2001');
    await alice.page.getByLabel(/^message/).fill('Customer was double charged; please refund.');
    await alice.page.getByRole('button', { name: 'Start the run' }).click();
    await alice.page.waitForURL(/#\/runs\/run-/);
    const runId = decodeURIComponent(alice.page.url().split('#/runs/')[1]!);

    // Within a second of the approval existing, bob's open page shows it, without a reload.
    const a = await approvalOf(runId);
    const item = bob.page.locator(`[data-approval="${a.approvalId}"]`);
    await item.waitFor({ timeout: 1_500 });
    await assertNotReloaded(bob.page);
    assert.match(await item.innerText(), /1,250\.00 USD/);
    assert.match(await item.innerText(), /INV-2001/);
    assert.match(await item.innerText(), /refund-finance-approval/);
    assert.match(await item.innerText(), /Asked by alice/);
    assert.match(await item.innerText(), /Escalates to finance-leads in 23h/);
    assert.match(await item.innerText(), /Expires in 2d 23h/);
    await screenshot(bob.page, 'inbox-pending');

    // Alice sees her run wait, and is never offered a decision on it.
    await alice.page.getByRole('link', { name: 'billing.issue_refund' }).first().click();
    await alice.page.getByText('Asked by alice').waitFor();
    assert.equal(await alice.page.getByRole('button', { name: /Approve|Reject/ }).count(), 0, 'alice is offered a decision on her own run');

    await item.getByRole('link', { name: /Review/ }).click();
    await bob.page.getByRole('button', { name: 'Approve', exact: true }).waitFor();
    await screenshot(bob.page, 'inbox-approval');
    await bob.page.getByLabel(/Comment/).fill('Verified the duplicate charge');
    await bob.page.getByRole('button', { name: 'Approve', exact: true }).click();
    await bob.page.getByTestId('outcome').getByText('Done: approved.').waitFor();

    // Decided: it leaves carol's open list within a second, without a reload.
    await carol.page.locator(`[data-approval="${a.approvalId}"]`).waitFor({ state: 'detached', timeout: 1_500 });
    await assertNotReloaded(carol.page);

    await stack.waitForRun(runId, (v) => v.status === 'completed');
    await go(alice.page, stack.apiUrl, `/runs/${runId}`);
    await alice.page.locator('h1').getByText('completed').waitFor();
    assert.match(await alice.page.getByTestId('input').innerText(), /C-1001[\s\S]*INV-2001[\s\S]*double charged/);
    assert.equal(stack.refunds(runId)[0]?.amount_cents, 125_000);
    await go(bob.page, stack.apiUrl, `/runs/${runId}`);
    await bob.page.getByTestId('result-summary').waitFor();
    await screenshot(bob.page, 'inbox-run');
  });

  test('6000 USD needs bob and carol; bob cannot vote twice', async () => {
    const [bob, carol] = [await user('bob'), await user('carol')];
    const runId = await stack.startRun({ customerId: 'C-1003', invoiceId: 'INV-2003', amount: 6000, message: 'Two duplicate charges.' });
    const a = await approvalOf(runId);
    await go(bob.page, stack.apiUrl, `/approvals/${a.approvalId}`);
    assert.match(await bob.page.locator('.card').first().innerText(), /0 of 2 approvals/);
    await bob.page.getByRole('button', { name: 'Approve', exact: true }).click();
    await bob.page.getByTestId('outcome').getByText('1 more approval needed').waitFor();
    await bob.page.getByTestId('voted').waitFor();
    assert.equal(await bob.page.getByRole('button', { name: 'Approve', exact: true }).count(), 0, 'bob is offered a second vote');
    // The server refuses a second vote anyway.
    const again = await stack.call('POST', `/v1/approvals/${a.approvalId}/decision`, { token: await stack.token('bob'), body: { decision: 'approve' } });
    assert.equal(again.status, 409);

    await go(carol.page, stack.apiUrl, `/approvals/${a.approvalId}`);
    assert.match(await carol.page.locator('.card').first().innerText(), /1 of 2 approvals[\s\S]*bob approved/);
    await carol.page.getByRole('button', { name: 'Approve', exact: true }).click();
    await carol.page.getByTestId('outcome').getByText('Done: approved.').waitFor();
    await stack.waitForRun(runId, (v) => v.status === 'completed');
    assert.equal(stack.refunds(runId)[0]?.amount_cents, 600_000);
  });

  test('an edit to 400 completes at 400; a malformed edit is caught before it is sent', async () => {
    const bob = await user('bob');
    const runId = await stack.startRun({ customerId: 'C-1001', invoiceId: 'INV-2005', amount: 1000, message: 'Partial refund agreed.' });
    const a = await approvalOf(runId);
    await go(bob.page, stack.apiUrl, `/approvals/${a.approvalId}`);
    await editArgs(bob.page, (args) => ({ ...args, amount: '400' }));
    await bob.page
      .getByRole('alert')
      .getByText(/amount must be number, not string/)
      .waitFor();
    const editor = bob.page.getByLabel(/Edited args/);
    await editor.fill(JSON.stringify({ ...a.args, amount: 400 }));
    await bob.page.getByRole('button', { name: 'Approve with these args' }).click();
    await bob.page.getByTestId('outcome').waitFor();
    await stack.waitForRun(runId, (v) => v.status === 'completed');
    assert.equal(stack.refunds(runId)[0]?.amount_cents, 40_000);
  });

  test("an edit to 25000 is refused with the policy's reason", async () => {
    const bob = await user('bob');
    const runId = await stack.startRun({ customerId: 'C-1004', invoiceId: 'INV-2004', amount: 1000, message: 'Refund request.' });
    const a = await approvalOf(runId);
    await go(bob.page, stack.apiUrl, `/approvals/${a.approvalId}`);
    await editArgs(bob.page, (args) => ({ ...args, amount: 25000 }));
    const alert = bob.page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /20000|refund-over-limit/);
    // Still pending, and still bob's to decide.
    assert.equal((await stack.waitForRun(runId, () => true)).pendingApprovals[0]?.approvalId, a.approvalId);
    assert.equal(await bob.page.getByRole('button', { name: 'Approve', exact: true }).count(), 1);
    assert.deepEqual(bob.errors(EXPECTED_REFUSALS), []);
  });

  test('an unanswered approval shows as expired', async () => {
    const bob = await user('bob');
    const res = await stack.call('POST', '/v1/runs', {
      token: await stack.token('alice'),
      body: { agent: 'refund-react', input: { customerId: 'C-1001', invoiceId: 'INV-2006', amount: 700, message: 'Refund.' } },
    });
    assert.equal(res.status, 202);
    const a = await approvalOf(res.body.runId);
    await go(bob.page, stack.apiUrl, `/approvals/${a.approvalId}`);
    await bob.page.getByText(/Expires in \d+s/).waitFor();
    await bob.page.getByTestId('expired').waitFor({ timeout: 20_000 });
    assert.equal(await bob.page.getByRole('button', { name: 'Approve', exact: true }).count(), 0);
    await go(bob.page, stack.apiUrl, '/history');
    await bob.page.getByTestId('history-expired').getByRole('link', { name: 'billing.issue_refund' }).first().waitFor();
  });

  test('every page works at 390 px without horizontal scrolling, and for operators', async () => {
    const pending = await stack.startRun({ customerId: 'C-1002', invoiceId: 'INV-2002', amount: 480, message: 'Small refund, allowed outright.' });
    const waiting = await stack.startRun({ customerId: 'C-1001', invoiceId: 'INV-2006', amount: 800, message: 'Leave this one pending.' });
    const a = await approvalOf(waiting);
    await stack.waitForRun(pending, (v) => v.status === 'completed');
    const narrow = await user('bob', 390);
    for (const hash of ['/pending', `/approvals/${a.approvalId}`, `/runs/${waiting}`, '/history']) {
      await go(narrow.page, stack.apiUrl, hash);
      await narrow.page.waitForTimeout(300);
      await assertNoHorizontalOverflow(narrow.page, hash);
    }
    const alice = await user('alice', 390);
    for (const hash of ['/pending', '/start', `/runs/${waiting}`]) {
      await go(alice.page, stack.apiUrl, hash);
      await assertNoHorizontalOverflow(alice.page, `alice ${hash}`);
    }
    const olivia = await user('olivia');
    await go(olivia.page, stack.apiUrl, `/runs/${pending}`);
    await olivia.page.getByTestId('audit').getByText('run.completed').waitFor();
    await go(olivia.page, stack.apiUrl, '/attention');
    await olivia.page.getByRole('heading', { name: 'Runs to reconcile' }).waitFor();
    await olivia.page.getByText(/Nothing to reconcile|change\(s\) ran/).waitFor();
  });

  test('sessions: writes need the CSRF header, sign-out ends the session, a revoked token goes back to sign-in', async () => {
    const dave = await user('dave');
    const noCsrf = await dave.page.evaluate(async () => (await fetch('/v1/runs/run-x/cancel', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
    assert.equal(noCsrf, 403);
    const cookies = await dave.context.cookies();
    const session = cookies.find((c) => c.name === 'airlock_inbox')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/');

    const revoked = await stack.call('POST', '/v1/revocations', { token: await stack.token('adam'), body: { subject: 'dave', reason: 'laptop lost' } });
    assert.equal(revoked.status, 201);
    // The next page dave opens finds the session refused, and shows sign-in with the reason. (By address, not the
    // History link: the open page may have noticed the revocation already, its stream ended, and left the link.)
    await dave.page.evaluate(() => void (location.hash = '#/history'));
    await dave.page.getByRole('heading', { name: 'Sign in to the Airlock inbox' }).waitFor({ timeout: 5_000 });
    await dave.page.getByText(/laptop lost/).waitFor();

    const erin = await user('erin');
    await erin.page.getByRole('button', { name: 'Sign out' }).click();
    await erin.page.getByRole('heading', { name: 'Development sign-in' }).waitFor();
    const status = await erin.page.evaluate(async () => (await fetch('/v1/approvals')).status);
    assert.equal(status, 401);
  });

  test('no console errors on any page', () => {
    // Expected refusals aside (the 409/422 a scenario provokes, the CSRF check's 403, a revoked token's 401), nothing was logged.
    const allowed = [...EXPECTED_REFUSALS, /status of 403 .*\/v1\/runs\/run-x\/cancel$/, /status of 401/];
    for (const w of pages) assert.deepEqual(w.errors(allowed), [], w.page.url());
  });

  test('the inbox is served with a strict CSP and no inline script', async () => {
    const res = await fetch(`${stack.apiUrl}/inbox/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    const page = await res.text();
    assert.doesNotMatch(page, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline script');
  });
});
