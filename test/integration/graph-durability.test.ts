// Agents written as LangGraph graphs survive their worker: a worker process is SIGKILLed between nodes,
// inside a model call, inside a tool call, while an interrupt() waits for its answer and while an approval
// waits for finance; a new worker finishes each run with every side effect exactly once. Real stack:
// Temporal dev server, the API in this process, workers in their own processes, the demo MCP servers.
import { openSqliteDatabase } from '../../src/store/sqliteDriver.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import { ROOT } from '../../src/config/load.js';
import type { RunView } from '../../src/core/types.js';
import { assertAuditStory, countOf, runAudit } from '../helpers/audit.js';
import { spawnWorker, type Proc } from '../helpers/process.js';
import type { ScriptReply } from '../helpers/scriptedCommon.js';
import { startScriptedOpenAI, toolResults, type ChatRequest, type ScriptedOpenAI } from '../helpers/scriptedOpenAI.js';
import { startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

const PLAYBOOK = ['crm.get_account', 'billing.get_invoice', 'ticketing.create_ticket', 'billing.issue_refund', 'crm.add_note', 'ticketing.update_ticket'];
/** Long enough for any retry after a kill: a model call killed mid-flight is retried when its start-to-close timeout (2 min) ends. */
const FINISH_MS = 240_000;

/**
 * A config for this file (the worker is another process, so config overrides in this one cannot reach it): the demo
 * configuration with the fixture agents added, and every relative path made absolute. Written into the run's data dir.
 */
function writeConfig(dataDir: string): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'examples', 'airlock.yaml'), 'utf8'));
  doc.setIn(['policy', 'dir'], join(ROOT, 'examples', 'policies'));
  doc.setIn(['registry', 'lockFile'], join(ROOT, 'examples', 'airlock.lock.json'));
  for (const [name, agent] of Object.entries((doc.toJS() as { agents: Record<string, { graph?: string }> }).agents))
    if (agent.graph && !isAbsolute(agent.graph)) doc.setIn(['agents', name, 'graph'], resolve(ROOT, 'examples', agent.graph));
  const common = { servers: ['crm', 'ticketing'], model: 'embedded', maxSteps: 12, autonomy: 'autonomous', approvals: { group: 'support-leads', expiresAfter: '72h' } };
  doc.setIn(['agents', 'asker'], {
    ...common,
    description: 'Asks which account to read (interrupt), then reads it.',
    graph: join(ROOT, 'test', 'fixtures', 'graphs', 'asks.ts'),
    servers: ['crm'],
    inputSchema: { type: 'object', required: ['customerId'], properties: { customerId: { type: 'string' } } },
  });
  doc.setIn(['agents', 'pauser'], {
    ...common,
    description: 'Opens a ticket, waits on a durable timer, then notes and resolves it.',
    graph: join(ROOT, 'test', 'fixtures', 'graphs', 'pauses.ts'),
    inputSchema: {
      type: 'object',
      required: ['customerId', 'message', 'pauseMs'],
      properties: { customerId: { type: 'string' }, message: { type: 'string' }, pauseMs: { type: 'number' } },
    },
  });
  const file = join(dataDir, 'airlock.yaml');
  writeFileSync(file, String(doc));
  return file;
}

/** A stack without a worker (each test's workers are processes it can kill), on the config above. */
async function startStack(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-graph-durability-'));
  return startTestStack({ parts: { worker: false }, dataDir, env: { AIRLOCK_CONFIG: writeConfig(dataDir), ...env } });
}

/** Starts and kills `airlock worker` processes against `s`. */
function workers(getStack: () => TestStack) {
  let worker: Proc | undefined;
  const start = async () => {
    const s = getStack();
    const w = spawnWorker({ ...s.env, AIRLOCK_TEMPORAL_ADDRESS: s.temporalAddress });
    worker = w;
    await waitFor(
      () => s.call('GET', '/readyz'),
      (r) => r.status === 200,
      180_000,
      `worker ready; output: ${w.output()}`,
    );
  };
  return {
    start,
    /** Each test starts from one running worker, whichever test ran (and killed workers) before it. */
    async ensure() {
      if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null) await start();
    },
    async kill() {
      assert.equal(await worker!.stop('SIGKILL'), 137, 'the worker died of SIGKILL');
    },
    /** Kills the worker and starts a new one. */
    async replace() {
      await this.kill();
      await start();
    },
    stop: () => worker?.stop('SIGKILL'),
  };
}

/** Starts a run of `agent` for alice. */
async function startRun(s: TestStack, agent: string, input: Record<string, unknown>): Promise<string> {
  const res = await s.call('POST', '/v1/runs', { token: await s.token('alice'), body: { agent, input } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.runId as string;
}

/** One number from a demo system's database. */
function countIn(s: TestStack, db: string, sql: string, ...params: unknown[]): number {
  const d = openSqliteDatabase(join(s.dataDir, db), { readonly: true, fileMustExist: true });
  try {
    return (d.prepare(sql).get(...params) as { n: number }).n;
  } finally {
    d.close();
  }
}

/** The writes a run made on the demo systems, found by the ticket it opened (its body is the run's unique message). */
function writesOf(s: TestStack, message: string, ticketId: string) {
  return {
    tickets: countIn(s, 'ticketing.db', 'SELECT count(*) AS n FROM tickets WHERE body = ?', message),
    comments: countIn(s, 'ticketing.db', 'SELECT count(*) AS n FROM ticket_comments WHERE ticket_id = ?', ticketId),
    notes: countIn(s, 'crm.db', "SELECT count(*) AS n FROM notes WHERE body LIKE '%' || ? || '%'", `ticket ${ticketId}`),
  };
}

/**
 * What the audit trail of a finished run must show whatever the kill interrupted: one unbroken chain, no event twice, each
 * step's execution recorded once, and the run's end once and last. (assertAuditStory checks the whole story besides.)
 */
async function assertAuditOnce(s: TestStack, run: RunView) {
  const records = await waitFor(
    () => runAudit(s, run.runId),
    (r) => r.at(-1)?.type === `run.${run.status}`,
    30_000,
    `run.${run.status} recorded`,
  );
  const story = JSON.stringify(records.map((r) => [r.type, r.tool, r.outcome]));
  assert.deepEqual(
    records.map((r) => r.chainSeq),
    records.map((_, i) => i + 1),
    'one unbroken chain',
  );
  assert.equal(new Set(records.map((r) => r.eventId)).size, records.length, 'no event recorded twice');
  assert.equal(countOf(records, `run.${run.status}`), 1, story);
  for (const step of run.steps) {
    const [server, ...rest] = step.tool.split('.');
    assert.equal(
      countOf(records, 'tool.executed', (r) => r.server === server && r.tool === rest.join('.') && r.data.step === step.index),
      1,
      `step ${step.index} executed once: ${story}`,
    );
  }
  return records;
}

const ticketOf = (run: RunView) => (run.steps.find((x) => x.tool === 'ticketing.create_ticket')!.result!.data as { ticketId: string }).ticketId;
const stepOf = (run: RunView, tool: string) => run.steps.find((x) => x.tool === tool && x.status === 'completed');
let nonce = 0;
/** A refund request whose message (the ticket's body) belongs to one test only. */
const requestFor = (invoiceId: string, amount: number) => ({
  customerId: 'C-1001',
  invoiceId,
  amount,
  message: `Customer was double charged; please refund. (graph durability ${process.pid}-${++nonce})`,
});

/** The refund-react run finished the playbook once: one ticket, one refund, one note, one ticket comment; one completed step per tool. */
async function assertRefundedOnce(s: TestStack, done: RunView, message: string) {
  assert.deepEqual(
    done.steps.map((x) => [x.tool, x.status]),
    PLAYBOOK.map((t) => [t, 'completed']),
    'each tool ran in one step, none repeated',
  );
  assert.equal(s.refunds(done.runId).length, 1, 'exactly one refund');
  assert.deepEqual(writesOf(s, message, ticketOf(done)), { tickets: 1, comments: 1, notes: 1 });
  const records = await assertAuditOnce(s, done);
  assert.equal(countOf(records, 'model.routed'), PLAYBOOK.length + 1, 'one routed model answer per turn');
}

describe('graph agents survive a killed worker (embedded planner)', () => {
  let s: TestStack;
  const w = workers(() => s);
  before(async () => {
    // The billing server holds each refund 4 s after committing it, so the worker can die inside the call.
    s = await startStack({ AIRLOCK_DEMO_REFUND_DELAY_MS: '4000' });
  });
  after(async () => {
    await w.stop();
    await s?.cleanup();
  });

  test('between nodes: killed while the graph rests between two side-effecting nodes, a new worker replays and finishes each write once', async () => {
    await w.ensure();
    const message = `Follow up on the outage. (graph durability ${process.pid}-${++nonce})`;
    // 'pause' only holds a workflow timer: when it is the last node entered, 'open' has finished and nothing is in flight.
    const runId = await startRun(s, 'pauser', { customerId: 'C-1002', message, pauseMs: 8_000 });
    const resting = await s.waitForRun(runId, (v) => v.path?.at(-1) === 'pause', 120_000);
    assert.deepEqual(
      resting.steps.map((x) => [x.tool, x.status]),
      [['ticketing.create_ticket', 'completed']],
    );
    await w.kill();
    const ticketId = ticketOf(resting);
    assert.deepEqual(writesOf(s, message, ticketId), { tickets: 1, comments: 0, notes: 0 }, 'killed after the first write and before the next');
    await w.start();
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', FINISH_MS);
    assert.deepEqual(
      done.steps.map((x) => [x.tool, x.status, x.node]),
      [
        ['ticketing.create_ticket', 'completed', 'open'],
        ['crm.add_note', 'completed', 'note'],
        ['ticketing.update_ticket', 'completed', 'resolve'],
      ],
    );
    assert.deepEqual(done.path, ['open', 'pause', 'note', 'resolve'], 'replay did not run a node twice');
    assert.equal((done.result as { status: string; ticketId: string }).status, 'resolved');
    assert.equal((done.result as { ticketId: string }).ticketId, ticketId, 'the state from before the kill carried over');
    assert.deepEqual(writesOf(s, message, ticketId), { tickets: 1, comments: 1, notes: 1 }, 'no write repeated');
    await assertAuditOnce(s, done);
  });

  test('during a tool call: killed while the refund is committed but its call has not returned, the retry reuses the idempotency key', async () => {
    await w.ensure();
    const input = requestFor('INV-2003', 120);
    const runId = await startRun(s, 'refund-react', input);
    await waitFor(
      async () => s.refunds(runId).length,
      (n) => n === 1,
      120_000,
      'refund committed',
    );
    const inFlight = await s.waitForRun(runId, () => true);
    assert.equal(inFlight.steps.find((x) => x.tool === 'billing.issue_refund')?.status, 'running', 'the refund call has not returned');
    await w.replace();
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', FINISH_MS);
    await assertRefundedOnce(s, done, input.message);
    assert.equal((stepOf(done, 'billing.issue_refund')!.result!.data as { replayed?: boolean }).replayed, true, 'the retried call was answered from the idempotency record');
    await assertAuditStory(s, done);
  });

  test('waiting on an approval: killed while the refund waits for finance, the approval given to the new worker resumes it', async () => {
    await w.ensure();
    const input = requestFor('INV-2001', 700);
    const runId = await startRun(s, 'refund-react', input);
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval', 120_000);
    const approval = waiting.pendingApprovals[0]!;
    assert.equal(approval.tool, 'billing.issue_refund');
    await w.replace();
    const still = await s.waitForRun(runId, () => true);
    assert.equal(still.status, 'awaiting_approval', 'the new worker rebuilt the wait');
    assert.equal(still.pendingApprovals[0]?.approvalId, approval.approvalId);
    assert.equal(s.refunds(runId).length, 0);
    const res = await s.call('POST', `/v1/approvals/${approval.approvalId}/decision`, { token: await s.token('bob'), body: { decision: 'approve' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', FINISH_MS);
    await assertRefundedOnce(s, done, input.message);
    assert.equal(s.refunds(runId)[0]!.amount_cents, 70_000);
    assert.equal(done.approvals.find((a) => a.approvalId === approval.approvalId)?.status, 'approved');
    await assertAuditStory(s, done);
  });

  test('waiting on an interrupt: killed while interrupt() waits, the answer given to the new worker resumes the graph', async () => {
    await w.ensure();
    const runId = await startRun(s, 'asker', { customerId: 'C-1001' });
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_input', 120_000);
    const q = waiting.pendingInputs![0]!;
    await w.replace();
    const still = await s.waitForRun(runId, () => true);
    assert.equal(still.status, 'awaiting_input', 'the new worker rebuilt the wait');
    assert.deepEqual(still.pendingInputs, waiting.pendingInputs);
    const ok = await s.call('POST', `/v1/runs/${runId}/input`, { token: await s.token('alice'), body: { inputId: q.inputId, value: 'C-1002' } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', FINISH_MS);
    assert.deepEqual(
      done.steps.map((x) => [x.tool, x.args.accountId, x.node, x.status]),
      [['crm.get_account', 'C-1002', 'read', 'completed']],
      'one read, of the account the answer named',
    );
    assert.equal((done.result as { account: { accountId: string } }).account.accountId, 'C-1002');
    assert.deepEqual(done.path, ['ask', 'ask', 'read']);
    assert.equal(done.inputs?.length, 1, 'one question, asked once');
    const records = await assertAuditOnce(s, done);
    assert.equal(countOf(records, 'input.requested'), 1);
    assert.equal(countOf(records, 'input.answered'), 1);
  });
});

describe('graph agents survive a killed worker (model over the OpenAI wire)', () => {
  let s: TestStack;
  let model: ScriptedOpenAI;
  const w = workers(() => s);
  /** The first model turn that would propose the refund hangs (the worker dies inside it); later ones answer. */
  let held = 0;
  const play = (body: ChatRequest): ScriptReply => {
    const user = body.messages.find((m) => m.role === 'user')!;
    const input = JSON.parse(user.content ?? '{}') as { customerId: string; invoiceId: string; amount: number; message: string };
    const results = toolResults(body);
    const data = (tool: string) => results.find((r) => r.tool === tool)?.data as Record<string, unknown>;
    switch (results.length) {
      case 0:
        return { toolCall: { name: 'crm__get_account', args: { accountId: input.customerId } } };
      case 1:
        return { toolCall: { name: 'billing__get_invoice', args: { invoiceId: input.invoiceId } } };
      case 2:
        return { toolCall: { name: 'ticketing__create_ticket', args: { accountId: input.customerId, subject: `Refund request for ${input.invoiceId}`, body: input.message, priority: 'normal' } } };
      case 3: {
        const reply: ScriptReply = { toolCall: { name: 'billing__issue_refund', args: { invoiceId: input.invoiceId, amount: input.amount, currency: 'USD', reason: input.message } } };
        return held++ === 0 ? { hang: true } : reply;
      }
      case 4:
        return {
          toolCall: {
            name: 'crm__add_note',
            args: { accountId: input.customerId, body: `Refund ${String(data('issue_refund').refundId)} issued (ticket ${String(data('create_ticket').ticketId)}).`, author: 'refund-react' },
          },
        };
      case 5:
        return { toolCall: { name: 'ticketing__update_ticket', args: { ticketId: data('create_ticket').ticketId, status: 'resolved', comment: 'Refund issued.' } } };
      default:
        return { text: 'Refunded once, noted, and resolved.' };
    }
  };
  before(async () => {
    model = await startScriptedOpenAI(play);
    s = await startStack({ AIRLOCK_REFUND_MODEL: 'local-openai', AIRLOCK_OPENAI_BASE_URL: model.baseUrl, AIRLOCK_OPENAI_MODEL: 'gpt-test', OPENAI_API_KEY: 'sk-test' });
  });
  after(async () => {
    await w.stop();
    await s?.cleanup();
    await model?.close();
  });

  test('during a model call: killed while the model is answering, the retried call on a new worker continues the run once', async () => {
    await w.ensure();
    const input = requestFor('INV-2002', 80);
    const runId = await startRun(s, 'refund-react', input);
    const refundTurns = () => model.requests.filter((b) => toolResults(b).length === 3).length;
    await waitFor(
      async () => refundTurns(),
      (n) => n === 1,
      120_000,
      'the model call that proposes the refund is in flight',
    );
    const inFlight = await s.waitForRun(runId, () => true);
    assert.deepEqual(
      inFlight.steps.map((x) => x.tool),
      PLAYBOOK.slice(0, 3),
    );
    await w.kill();
    await model.whenAbandoned(1); // the killed worker's request was cut off mid-call
    await w.start();
    const done = await s.waitForRun(runId, (v) => v.status === 'completed', FINISH_MS);
    assert.equal(refundTurns(), 2, 'the model call was made again, once');
    await assertRefundedOnce(s, done, input.message);
    assert.equal(s.refunds(runId)[0]!.amount_cents, 8_000);
    assert.equal(done.finalModel?.provider, 'local-openai');
    await assertAuditStory(s, done);
  });
});
