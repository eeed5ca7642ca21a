// Runs a child process, forwarding termination signals to it, and exits with its code.
import { spawn } from 'node:child_process';

export function runForwarding(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', ...opts });
    const forward = (sig) => child.kill(sig);
    const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of sigs) process.on(s, forward);
    child.on('exit', (code, signal) => {
      for (const s of sigs) process.off(s, forward);
      resolve(code ?? (signal ? 128 + 15 : 1));
    });
    child.on('error', (err) => {
      console.error(err.message);
      resolve(1);
    });
  });
}
