// Notifications end to end, with real receivers: a signed webhook (the receiver checks the HMAC over
// "<timestamp>.<body>"), a Slack-shaped incoming webhook (Block Kit with the inbox link), an SMTP sink (smtp-server,
// with a login), a receiver that always answers 500 and a port nobody listens on. Each approval event reaches each
// channel once (retries carry the same delivery id); the broken receivers neither fail nor hold up the run.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { ROOT } from '../../src/config/load.js';
import { freePort, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

const HOOK_SECRET = 'whsec-test-9f8e7d6c5b4a';
const SMTP_PASSWORD = 'smtp-pass-1a2b3c4d';
const SLACK_PATH = '/services/T000/B000/slacktoken0123456789';
const PUBLIC_URL = 'https://airlock.example.test';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

async function receiver(status: number): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(status).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, got };
}

/** The text of a MIME message: folded headers joined, quoted-printable soft breaks and escapes undone. */
const unfold = (raw: string) =>
  raw
    .replace(/\r\n[ \t]+/g, ' ')
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

describe('notifications', () => {
  let s: TestStack;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let slack: Awaited<ReturnType<typeof receiver>>;
  let broken: Awaited<ReturnType<typeof receiver>>;
  let smtp: SMTPServer;
  const mails: string[] = [];
  const logs: string[] = [];

  before(async () => {
    [hook, slack, broken] = await Promise.all([receiver(200), receiver(200), receiver(500)]);
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      onAuth: (auth, _session, cb) => (auth.username === 'airlock' && auth.password === SMTP_PASSWORD ? cb(null, { user: 'airlock' }) : cb(new Error('bad login'))),
      onData: (stream, _session, cb) => {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
        stream.on('end', () => {
          mails.push(raw);
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', () => r()));
    const dead = `http://127.0.0.1:${await freePort()}/hook`;
    s = await startTestStack({
      env: { HOOK_SECRET, SMTP_PASSWORD, SLACK_URL: `${slack.url}${SLACK_PATH}` },
      logSink: (line) => logs.push(line),
      overrides: (cfg) => {
        // A graph agent that asks its requester (or support-leads) a question with interrupt().
        cfg.agents.asker = {
          ...cfg.agents['refund-react']!,
          graph: join(ROOT, 'test/fixtures/graphs/asks.ts'),
          servers: ['crm'],
          playbook: [],
          inputSchema: { type: 'object', required: ['customerId'], properties: { customerId: { type: 'string' } } },
        };
        cfg.notifications = {
          publicUrl: PUBLIC_URL,
          channels: {
            hook: { kind: 'webhook', url: `${hook.url}/airlock`, secret: { env: 'HOOK_SECRET' }, headers: {} },
            chat: { kind: 'slack', url: { env: 'SLACK_URL' } },
            mail: { kind: 'email', to: ['finance@example.test'], subjectPrefix: '[Airlock]' },
            broken: { kind: 'webhook', url: `${broken.url}/hook`, secret: { env: 'HOOK_SECRET' }, headers: {} },
            dead: { kind: 'webhook', url: dead, secret: { env: 'HOOK_SECRET' }, headers: {} },
          },
          routes: [
            { events: ['approval.requested', 'approval.decided'], groups: ['finance'], agents: ['refund-assistant'], channels: ['hook', 'chat', 'mail', 'broken', 'dead'] },
            // Another group's route: never for a finance approval.
            { events: ['approval.requested'], groups: ['legal'], channels: ['hook'] },
            { events: ['input.requested'], groups: ['support-leads'], agents: ['asker'], channels: ['hook'] },
          ],
          smtp: { host: '127.0.0.1', port: smtpPort, secure: false, user: 'airlock', password: { env: 'SMTP_PASSWORD' }, from: 'airlock@example.test' },
          delivery: { maximumAttempts: 3, initialInterval: 100, timeout: 5_000 },
        };
      },
    });
  });
  after(async () => {
    await s?.cleanup();
    for (const r of [hook, slack, broken]) r?.server.close();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  });

  test('an approval is announced once per channel, signed, with the inbox link; dead receivers do not stop the run', async () => {
    const runId = await s.startRun();
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');
    const approvalId = waiting.pendingApprovals[0]!.approvalId;
    const delivery = `${runId}/${approvalId}/approval.requested`;
    const link = `${PUBLIC_URL}/inbox/approvals/${approvalId}`;

    // The webhook: the signature is an HMAC of "<timestamp>.<body>" with the shared secret.
    const [signed] = await waitFor(
      async () => hook.got.filter((r) => r.headers['x-airlock-delivery'] === delivery),
      (l) => l.length > 0,
      30_000,
      'the webhook delivery',
    );
    const ts = String(signed!.headers['x-airlock-timestamp']);
    assert.match(ts, /^\d{10}$/, 'unix seconds');
    const expected = `sha256=${createHmac('sha256', HOOK_SECRET).update(`${ts}.${signed!.body}`).digest('hex')}`;
    const sig = String(signed!.headers['x-airlock-signature']);
    assert.ok(sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected)), 'the signature verifies');
    const body = JSON.parse(signed!.body);
    assert.deepEqual(
      [body.event, body.runId, body.approvalId, body.agent, body.requester, body.tool, body.args.amount, body.link, body.groups],
      ['approval.requested', runId, approvalId, 'refund-assistant', 'alice', 'billing.issue_refund', 1250, link, ['finance']],
    );

    // Slack: Block Kit with a header, the facts, and a button to the inbox.
    const chat = await waitFor(
      async () => slack.got.filter((r) => r.headers['x-airlock-delivery'] === delivery),
      (l) => l.length > 0,
      30_000,
      'the Slack message',
    );
    const msg = JSON.parse(chat[0]!.body);
    assert.equal(msg.blocks[0].type, 'header');
    assert.equal(msg.blocks[0].text.text, 'Approval requested');
    const fields = msg.blocks
      .find((b: { fields?: unknown }) => b.fields)
      .fields.map((f: { text: string }) => f.text)
      .join('\n');
    for (const fact of ['*Agent*\nrefund-assistant', '*Requester*\nalice', '*Tool*\nbilling.issue_refund', '*Amount*\n1250']) assert.ok(fields.includes(fact), `${fact} in ${fields}`);
    const button = msg.blocks.find((b: { type: string }) => b.type === 'actions').elements[0];
    assert.equal(button.url, link);

    // Email, through the SMTP sink (which required the login).
    const mail = unfold(
      await waitFor(
        async () => mails.find((m) => m.includes(delivery)) ?? '',
        (m) => m.length > 0,
        30_000,
        'the email',
      ),
    );
    assert.match(mail, /Subject: \[Airlock\] Approval requested: billing\.issue_refund \(refund-assistant\)/);
    assert.match(mail, /X-Airlock-Delivery: /);
    assert.ok(mail.includes(link), 'the link is in the mail');
    assert.match(mail, /Content-Type: text\/html/);

    // The run goes on while two receivers fail: approved, it completes with one refund.
    const decided = await s.call('POST', `/v1/approvals/${approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const done = await s.waitForRun(runId, (v) => v.status === 'completed');
    assert.equal(s.refunds(runId).length, 1);
    const closed = await waitFor(
      () => s.client.workflow.getHandle(runId).describe(),
      (d) => d.status.name !== 'RUNNING',
      60_000,
      'the workflow closes',
    );
    assert.equal(closed.status.name, 'COMPLETED');
    assert.equal(done.status, 'completed');

    // Exactly once per approval and channel: one scheduled activity each in history, one delivery at each healthy receiver.
    const history = await s.client.workflow.getHandle(runId).fetchHistory();
    const notifies = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notify');
    assert.equal(notifies.length, 2 * 5, 'requested and decided, to five channels each');
    const deliveries = (r: { got: Received[] }, event: string) => r.got.filter((x) => x.headers['x-airlock-delivery'] === `${runId}/${approvalId}/${event}`);
    assert.equal(deliveries(hook, 'approval.requested').length, 1);
    assert.equal(deliveries(hook, 'approval.decided').length, 1);
    assert.equal(JSON.parse(deliveries(hook, 'approval.decided')[0]!.body).status, 'approved');
    assert.equal(deliveries(slack, 'approval.requested').length, 1);
    assert.equal(mails.filter((m) => m.includes(delivery)).length, 1);
    // The failing receiver got the same delivery id on every attempt (deduplicable), at most the configured attempts.
    const attempts = deliveries(broken, 'approval.requested');
    assert.ok(attempts.length >= 1 && attempts.length <= 3, `${attempts.length} attempts`);
    assert.ok(
      hook.got.every((r) => JSON.parse(r.body).groups.includes('finance')),
      'the legal route sent nothing',
    );

    // No secret reached a log line.
    const all = logs.join('\n');
    for (const secret of [HOOK_SECRET, SMTP_PASSWORD, 'slacktoken0123456789']) assert.ok(!all.includes(secret), 'a secret in the logs');
  });

  test('a question the agent asks reaches its route, with a link to the run', async () => {
    const alice = await s.token('alice');
    const started = await s.call('POST', '/v1/runs', { token: alice, body: { agent: 'asker', input: { customerId: 'C-1001' } } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_input', 120_000);
    const inputId = waiting.pendingInputs![0]!.inputId;
    const [asked] = await waitFor(
      async () => hook.got.filter((r) => r.headers['x-airlock-delivery'] === `${runId}/${inputId}/input.requested`),
      (l) => l.length > 0,
      30_000,
      'the question at the webhook',
    );
    const body = JSON.parse(asked!.body);
    assert.deepEqual([body.event, body.inputId, body.groups, body.link], ['input.requested', inputId, ['support-leads'], `${PUBLIC_URL}/inbox/runs/${runId}`]);
    assert.match(body.question.question, /Which account should I read/);
    const answered = await s.call('POST', `/v1/runs/${runId}/input`, { token: alice, body: { inputId, value: 'C-1001' } });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    await s.waitForRun(runId, (v) => v.status === 'completed', 120_000);
  });
});
