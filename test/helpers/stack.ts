import { openSqliteDatabase } from '../../src/store/sqliteDriver.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type AirlockConfig } from '../../src/config/load.js';
import type { FileConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { startStack, type Stack, type StackParts } from '../../src/stack.js';
import { decodeHistory } from '../../src/temporal/codec.js';
import type { RunView } from '../../src/core/types.js';
import { freePort } from './ports.js';

export { freePort };

export interface TestEnvOptions {
  dataDir?: string;
  temporalPort?: number;
  ticketingPort?: number;
  env?: Record<string, string>;
  overrides?: (cfg: FileConfig) => void;
  /** Receives every log line of the stack (tests that search the logs). */
  logSink?: (line: string) => void;
}

/** Environment variables that put a whole Airlock (in or out of process) on private ports and a temp data dir. */
export async function testEnv(o: TestEnvOptions = {}): Promise<Record<string, string>> {
  return {
    ...(process.env as Record<string, string>),
    AIRLOCK_DATA_DIR: o.dataDir ?? mkdtempSync(join(tmpdir(), 'airlock-test-')),
    AIRLOCK_API_PORT: '0',
    AIRLOCK_TEMPORAL_PORT: String(o.temporalPort ?? (await freePort())),
    AIRLOCK_TEMPORAL_UI_PORT: '0',
    AIRLOCK_DEMO_TICKETING_PORT: String(o.ticketingPort ?? (await freePort())),
    AIRLOCK_LOG_LEVEL: process.env.AIRLOCK_TEST_LOG_LEVEL ?? 'warn',
    ...o.env,
  };
}

export interface TestStack extends Stack {
  apiUrl: string;
  dataDir: string;
  env: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- REST bodies are read field by field and asserted by each test
  call<T = any>(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: T }>;
  token(user: string): Promise<string>;
  startRun(input?: Record<string, unknown>, user?: string): Promise<string>;
  waitForRun(runId: string, pred: (v: RunView) => boolean, timeoutMs?: number): Promise<RunView>;
  /**
   * The refunds `runId` made on the demo billing system (their idempotency keys are `<runId>/step-N`).
   * Only one run's: a test counts what it created, whatever other tests on the same stack did before it.
   */
  refunds(runId: string): Array<{ refund_id?: string; invoice_id?: string; amount_cents?: number; [k: string]: unknown }>;
  cleanup(): Promise<void>;
}

export const DEMO_INPUT = { customerId: 'C-1001', invoiceId: 'INV-2001', message: 'Customer was double charged; please refund.' };

export async function startTestStack(o: TestEnvOptions & { parts?: StackParts } = {}): Promise<TestStack> {
  const env = await testEnv(o);
  const config: AirlockConfig = loadConfig({ env, overrides: o.overrides });
  const log = createLogger(config.logLevel, 'airlock-test', o.logSink ? { write: o.logSink } : undefined);
  const stack = await startStack(config, log, o.parts);
  return withHelpers(stack, env, config.dataDir);
}

export function withHelpers(stack: Stack, env: Record<string, string>, dataDir: string): TestStack {
  // Payloads are encrypted in Temporal: histories fetched through the stack's client come decoded by its codec,
  // as `airlock replay --fetch` writes them (a plain Client sees the ciphertext).
  // (A stack started in another process, as the restart tests do, has only an API URL here: no client to wrap.)
  if (stack.client) {
    const codecs = stack.client.options.loadedDataConverter.payloadCodecs;
    const wf = stack.client.workflow;
    const getHandle = wf.getHandle.bind(wf);
    wf.getHandle = ((...args: Parameters<typeof getHandle>) => {
      const handle = getHandle(...args);
      const fetchHistory = handle.fetchHistory.bind(handle);
      handle.fetchHistory = async () => {
        let history = await fetchHistory();
        for (const codec of [...codecs].reverse()) history = await decodeHistory(history, codec);
        return history;
      };
      return handle;
    }) as typeof wf.getHandle;
  }
  const call: TestStack['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const t: TestStack = Object.assign(stack, {
    apiUrl: stack.apiUrl!,
    dataDir,
    env,
    call,
    token: (user: string) => stack.issuer.mint(user),
    async startRun(input: Record<string, unknown> = DEMO_INPUT, user = 'alice') {
      const res = await call('POST', '/v1/runs', { token: await stack.issuer.mint(user), body: { agent: 'refund-assistant', input } });
      if (res.status !== 202) throw new Error(`start run: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.runId as string;
    },
    async waitForRun(runId: string, pred: (v: RunView) => boolean, timeoutMs = 60_000) {
      const token = await stack.issuer.mint('olivia');
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        const res = await call('GET', `/v1/runs/${runId}`, { token });
        last = res.body;
        if (res.status === 200 && pred(res.body)) return res.body as RunView;
        if (res.status === 200 && ['completed', 'rejected', 'failed', 'cancelled'].includes(res.body.status))
          throw new Error(`run ${runId} ended ${res.body.status} without reaching the expected state: ${JSON.stringify(res.body)}`);
        await sleep(200);
      }
      throw new Error(`run ${runId} did not reach the expected state; last: ${JSON.stringify(last)}`);
    },
    refunds(runId: string) {
      const db = openSqliteDatabase(join(dataDir, 'billing.db'), { readonly: true, fileMustExist: true });
      try {
        const prefix = `${runId}/`;
        return db.prepare('SELECT * FROM refunds WHERE substr(idempotency_key, 1, length(?)) = ? ORDER BY created_at').all(prefix, prefix) as ReturnType<TestStack['refunds']>;
      } finally {
        db.close();
      }
    },
    async cleanup() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
  return t;
}

export async function waitFor<T>(fn: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (pred(last)) return last;
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}
