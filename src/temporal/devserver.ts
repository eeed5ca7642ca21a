import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DevServerOptions {
  cli: string;
  ip: string;
  port: number;
  /** 0 runs the server headless (no Web UI). */
  uiPort: number;
  /** SQLite file for persistence; undefined keeps everything in memory. */
  dbFile?: string;
  namespace: string;
  /** The Web UI decodes payloads through this remote codec endpoint (Airlock's `/codec`). */
  codecEndpoint?: string;
  log?: (msg: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Whether `host:port` cannot be listened on because something else already does (EADDRINUSE). */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? res(true) : rej(err)));
    s.listen({ host, port, exclusive: true }, () => s.close(() => res(false)));
  });
}

/**
 * Starts `temporal server start-dev` and resolves once its frontend answers. SQLite WAL mode keeps
 * writes cheap; the file survives restarts, so do paused runs.
 */
export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  // Checked first: the frontend of a server already there would answer below, and be taken for this one.
  for (const [port, what] of [
    [o.port, 'port'],
    [o.uiPort, 'UI port'],
  ] as const)
    if (port && (await portInUse(o.ip, port))) throw new Error(`temporal dev server: ${what} ${o.ip}:${port} is already in use (EADDRINUSE)`);
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port), '--namespace', o.namespace, '--log-level', 'warn', '--log-format', 'json'];
  if (o.uiPort === 0) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort), ...(o.codecEndpoint ? ['--ui-codec-endpoint', o.codecEndpoint] : []));
  if (o.dbFile) {
    mkdirSync(dirname(o.dbFile), { recursive: true });
    args.push('--db-filename', o.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  const child = spawn(o.cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited: number | null | undefined;
  const exit = new Promise<void>((res) => child.once('exit', (code) => ((exited = code), res())));
  const address = `${o.ip}:${o.port}`;

  const stop = async () => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([exit.then(() => true), sleep(15_000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exit;
    }
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`temporal dev server exited (code ${exited}) during start-up:\n${stderr}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await conn.workflowService.describeNamespace({ namespace: o.namespace });
        break;
      } finally {
        await conn.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`temporal dev server did not answer on ${address} within 60s: ${(err as Error).message}\n${stderr}`, { cause: err });
      }
      await sleep(250);
    }
  }
  o.log?.(`temporal dev server on ${address}${o.uiPort ? `, UI http://${o.ip}:${o.uiPort}` : ''}`);
  return { address, uiUrl: o.uiPort ? `http://${o.ip}:${o.uiPort}` : undefined, process: child, stop };
}
