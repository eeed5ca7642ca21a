// The bench's harness: ports, worker processes (a death fails every wait at once), and the API calls sections make.
import type { Client } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ROOT, type AirlockConfig } from '../src/config/load.js';
import type { Stack } from '../src/stack.js';
import { BenchFailure } from './lib.js';

/** A free local TCP port. */
export function free(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Set when a worker process dies: every wait fails at once, with its last words. */
let died: BenchFailure | undefined;

export function spawnNode(script: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d).slice(-8000));
  child.stderr!.on('data', keep);
  child.stdout!.on('data', keep);
  // `killed` is set when the bench itself signals the process (at the end): only any other exit is a death.
  child.once('exit', (code, signal) => {
    if (!child.killed) died = new BenchFailure(`${script.join(' ')} exited (${code ?? signal}) during the benchmark; its last output:\n${out}`);
  });
  return new Promise((res, rej) => {
    child.once('exit', () => rej(died));
    child.stdout!.on('data', (d) => /ready/.test(String(d)) && res(child));
    setTimeout(() => res(child), 60_000).unref();
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (died) throw died;
    const v = await fn().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new BenchFailure(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Ctx {
  config: AirlockConfig;
  env: Record<string, string>;
  stack: Stack;
  client: Client;
  api: string;
  token: (user: string) => Promise<string>;
  worker: ChildProcess;
  bare: ChildProcess;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the bench reads whatever JSON the API answers
export async function apiCall(ctx: Ctx, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${ctx.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function startRun(ctx: Ctx, token: string, agent: string, input: object): Promise<string> {
  const r = await apiCall(ctx, 'POST', '/v1/runs', token, { agent, input });
  if (r.status !== 202) throw new BenchFailure(`start ${agent}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.runId;
}

export async function waitResult(ctx: Ctx, runId: string): Promise<void> {
  const v = (await ctx.client.workflow.getHandle(runId).result()) as { status: string };
  if (v.status !== 'completed') throw new BenchFailure(`run ${runId} ended ${v.status}`);
}
