#!/usr/bin/env node
// Entry point behind `npm start` and `npm test` on a fresh clone.
// Plain Node with no dependencies: it makes sure npm dependencies are installed
// (and current with package-lock.json), then hands over to the TypeScript CLI,
// which installs the Temporal CLI if needed (`airlock setup`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runForwarding } from './forward.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'node_modules', '.airlock-deps.sha256');

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (res.error) throw res.error;
  return res.status ?? 1;
}

/** What installs depend on: the dependency fields of package.json and the lockfile (not scripts). */
function depsHash() {
  const h = createHash('sha256');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  h.update(JSON.stringify([pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies, pkg.overrides, pkg.engines]));
  const lock = join(root, 'package-lock.json');
  if (existsSync(lock)) h.update(readFileSync(lock));
  return h.digest('hex');
}

function ensureNodeModules() {
  const want = depsHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return;
  const hasLock = existsSync(join(root, 'package-lock.json'));
  console.error(`[airlock] installing npm dependencies (${hasLock ? 'npm ci' : 'npm install'})…`);
  const code = run('npm', [hasLock ? 'ci' : 'install', '--no-audit', '--no-fund']);
  if (code !== 0) {
    console.error('[airlock] npm dependency installation failed');
    process.exit(code);
  }
  writeFileSync(stamp, want + '\n');
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

// The Node 24 leg (README "Tests"): after the suite passes on the default Node, `npm test` runs this part of it
// again on Node 24 (.tools/node24, installed by `airlock setup --node24`). It covers every native dependency, the
// workflow sandbox, one run end to end and the browser tests; a directory listed here joins once it exists.
const NODE24_LEG = [
  'test/audit/', // better-sqlite3 and pg: the audit store on SQLite and on PostgreSQL
  // The workflow sandbox: bundling (swc), replay of the committed histories, the time-skipping test server (Temporal
  // core bridge). Not the graph agents' history re-recording (agent-replay, 70 s): it adds no native or sandbox surface.
  'test/workflows/agentRun.test.ts',
  'test/workflows/replay.test.ts',
  'test/workflows/lint.test.ts',
  'test/integration/run-approval.test.ts', // end to end: API, worker, Temporal dev server, demo MCP servers on SQLite
  'test/inbox/', // browser tests (Playwright)
];

/** The leg's files: NODE24_LEG's files and the test files under its directories. */
function node24LegFiles() {
  return NODE24_LEG.flatMap((p) => {
    const abs = join(root, p);
    if (!existsSync(abs)) return [];
    return p.endsWith('/') ? testFiles(abs) : [p];
  });
}

/**
 * Whether to run the Node 24 leg: by default with the whole suite, not with explicit files (targeted runs stay fast);
 * AIRLOCK_TEST_NODE24=1 asks for it (with explicit files, those files run again on Node 24), =0 skips it.
 */
function wantNode24Leg(explicitFiles) {
  const v = process.env.AIRLOCK_TEST_NODE24;
  if (v === '0' || v === 'false') return false;
  if (Number(process.versions.node.split('.')[0]) === 24) return false; // the default Node is Node 24 already
  return v === '1' || v === 'true' || !explicitFiles;
}

async function runNode24Leg(files) {
  const manifest = JSON.parse(readFileSync(join(root, '.tools', 'node24', 'airlock-node24.json'), 'utf8'));
  console.error(`[airlock] Node 24 leg: ${files.length} files on ${manifest.version} (${manifest.node})`);
  const started = Date.now();
  // Child processes the tests start with `node` from PATH get Node 24 too (those started with process.execPath do anyway).
  const env = { ...process.env, PATH: `${dirname(manifest.node)}${delimiter}${process.env.PATH ?? ''}` };
  const code = await runForwarding(manifest.node, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { cwd: root, env });
  const secs = Math.round((Date.now() - started) / 1000);
  console.error(`[airlock] Node 24 leg ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${secs} s`);
  return code;
}

const tsNode = [process.execPath, '--import', 'tsx'];
/** Test files run side by side in the default suite (AIRLOCK_TEST_CONCURRENCY overrides; 1 runs them one by one). */
const TEST_FILES_AT_ONCE = /^[1-9]$/.test(process.env.AIRLOCK_TEST_CONCURRENCY ?? '') ? process.env.AIRLOCK_TEST_CONCURRENCY : '2';
const [command = 'start', ...rest] = process.argv.slice(2);
ensureNodeModules();

if (command === 'start') {
  process.exit(await runForwarding(tsNode[0], [...tsNode.slice(1), 'src/cli/main.ts', 'start', ...rest], { cwd: root }));
} else if (command === 'test') {
  const node24 = wantNode24Leg(rest.length > 0);
  let code = run(tsNode[0], [...tsNode.slice(1), 'src/cli/main.ts', 'setup', '--test-server', ...(node24 ? ['--node24'] : [])]);
  if (code !== 0) process.exit(code);
  console.error('[airlock] type-checking…');
  code = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json']);
  if (code !== 0) process.exit(code);
  console.error('[airlock] linting (eslint) and checking the format (prettier)…');
  code = run(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
  if (code !== 0) process.exit(code);
  code = run(process.execPath, [join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--check', '--log-level', 'warn', '.']);
  if (code !== 0) {
    console.error('[airlock] format check failed: run `npm run format` to fix the files listed above');
    process.exit(code);
  }
  const files = rest.length > 0 ? rest : testFiles(join(root, 'test'));
  // Two files at a time (one per core): each file starts its own stack on free ports, data dir, PostgreSQL schema and
  // browser, and the bundle cache is written atomically; most of a file's time is waiting on servers, not CPU.
  code = await runForwarding(tsNode[0], [...tsNode.slice(1), '--test', `--test-concurrency=${TEST_FILES_AT_ONCE}`, '--test-reporter=spec', ...files], { cwd: root });
  if (code !== 0 || !node24) process.exit(code);
  process.exit(await runNode24Leg(rest.length > 0 ? rest : node24LegFiles()));
} else if (command === 'bench') {
  const code = run(tsNode[0], [...tsNode.slice(1), 'src/cli/main.ts', 'setup']);
  if (code !== 0) process.exit(code);
  process.exit(await runForwarding(tsNode[0], [...tsNode.slice(1), '--expose-gc', 'bench/run.ts', ...rest], { cwd: root }));
} else {
  console.error(`usage: bootstrap.mjs start|test|bench [args]`);
  process.exit(2);
}
