import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ROOT } from '../../src/config/load.js';

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Sends the signal and waits for exit; returns the exit code (or 128+n for a signal). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number>;
}

/** Spawns `node <args>` from the repository root with the given environment, capturing output. */
export function spawnNode(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return {
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? 128;
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code, sig] = (await exited) as [number | null, NodeJS.Signals | null];
      clearTimeout(timer);
      return code ?? (sig === 'SIGKILL' ? 137 : 143);
    },
  };
}

/** An `airlock worker` process (what operators run to scale out). */
export function spawnWorker(env: Record<string, string>): Proc {
  return spawnNode(['--import', 'tsx', 'src/cli/main.ts', 'worker'], env);
}
