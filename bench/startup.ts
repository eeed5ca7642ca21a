// 6. `npm start` to /readyz 200, against the Temporal dev server alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../src/config/load.js';
import { startDevServer } from '../src/temporal/devserver.js';
import { temporalCli } from '../src/temporal/binary.js';
import { free, waitFor } from './harness.js';
import { row, stats, time, type Section } from './lib.js';

/** 6. `npm start` to /readyz 200, against the Temporal dev server alone. */
export async function benchStartup({ quick, say }: { quick: boolean; say: (m: string) => void }): Promise<Section> {
  const cli = temporalCli({ root: ROOT, env: process.env as Record<string, string>, log: say });
  const samples = quick ? 1 : 3;
  const airlock: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < samples; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-start-'));
    const [apiPort, tPort, tkPort] = [await free(), await free(), await free()];
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'bootstrap.mjs'), 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        AIRLOCK_DATA_DIR: dir,
        AIRLOCK_API_PORT: String(apiPort),
        AIRLOCK_TEMPORAL_PORT: String(tPort),
        AIRLOCK_TEMPORAL_UI_PORT: '0',
        AIRLOCK_DEMO_TICKETING_PORT: String(tkPort),
        AIRLOCK_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
      detached: true,
    });
    await waitFor(
      'npm start ready',
      () => fetch(`http://127.0.0.1:${apiPort}/readyz`).then((r) => r.status),
      (s) => s === 200,
      180_000,
    );
    airlock.push(performance.now() - t0);
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });

    const dir2 = mkdtempSync(join(tmpdir(), 'airlock-bench-temporal-'));
    const [bareMs, dev] = await time(async () => startDevServer({ cli, ip: '127.0.0.1', port: await free(), uiPort: 0, namespace: 'default', dbFile: join(dir2, 'temporal.db'), log: say }));
    bare.push(bareMs);
    await dev.stop();
    rmSync(dir2, { recursive: true, force: true });
  }
  const a = stats(airlock);
  const b = stats(bare);
  return {
    id: 'startup',
    title: '6. Start-up: `npm start` until /readyz answers 200',
    baseline: '`temporal server start-dev` alone until its frontend answers',
    rows: [row('start-up, median', 'ms', a.p50, b.p50)],
    notes: [`${samples} sample(s) each, dependencies installed, a fresh data directory each time (Temporal's SQLite file included).`],
  };
}
