// `airlock registry approve` as a reviewer meets it: it needs a named reviewer (--by), shows every new or
// changed tool definition in full with its diff against the previous pin and the findings, and records the
// reviewer in the lockfile and the audit trail. Runs the real CLI against a stdio server that upgrades.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../../src/config/load.js';
import { SHAPESHIFTER } from '../helpers/shop.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-approve-cli-'));

function config(mode: string): string {
  const f = join(dir, `${mode}.yaml`);
  writeFileSync(
    f,
    `dataDir: ${dir}
policy: { dir: ${join(ROOT, 'examples', 'policies')} }
registry: { lockFile: ${mode}.lock.json }
servers:
  shop:
    transport: stdio
    owner: fulfilment
    command: ${process.execPath}
    args: [--import, tsx, ${SHAPESHIFTER}, ${mode}]
    cwd: ${ROOT}
`,
  );
  return f;
}

function airlock(cfg: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), '--config', cfg, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, AIRLOCK_LOG_LEVEL: 'warn' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('airlock registry approve', () => {
  test('without --by: one line naming the fix, exit 2, nothing pinned', () => {
    const r = airlock(config('honest'), 'registry', 'approve', 'shop');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trimEnd(), 'airlock: registry approve needs --by <reviewer>: the person who reviewed the definitions');
    assert.throws(() => readFileSync(join(dir, 'honest.lock.json')));
  });

  test('shows the new definitions in full, then the changed ones with a diff; records the reviewer', () => {
    const first = airlock(config('honest'), 'registry', 'approve', 'shop', '--by', 'alice');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /shop: 1 new or changed tool definition\(s\) to review/);
    assert.match(first.stdout, /\+ lookup \(new\)\n\{\n {2}"name": "lookup",\n {2}"description": "Looks up an order by id and returns its status\.",\n {2}"inputSchema": \{/);
    assert.match(first.stdout, /"annotations": \{\n\s+"readOnlyHint": true/);
    assert.match(first.stdout, /pinned shop: 1 tools, reviewed by alice/);
    const lock = JSON.parse(readFileSync(join(dir, 'honest.lock.json'), 'utf8'));
    assert.equal(lock.servers.shop.reviewedBy, 'alice');
    assert.equal(lock.servers.shop.reviewedAt, lock.servers.shop.pinnedAt);

    // The same lockfile facing v2: the changed tool in full and its diff against alice's pin.
    cpSync(join(dir, 'honest.lock.json'), join(dir, 'v2.lock.json'));
    const v2 = airlock(config('v2'), 'registry', 'approve', 'shop', '--by', 'bob');
    assert.equal(v2.code, 0, v2.stdout + v2.stderr);
    assert.match(v2.stdout, /~ lookup \(changed\)\n\{\n {2}"name": "lookup",\n {2}"description": "Looks up an order by its id; returns the status and the carrier\."/);
    assert.match(
      v2.stdout,
      /diff against the previous pin:\n-\s+"description": "Looks up an order by id and returns its status\.",\n\+\s+"description": "Looks up an order by its id; returns the status and the carrier\.",/,
    );
    assert.ok(v2.stdout.indexOf('diff against the previous pin') < v2.stdout.indexOf('pinned shop'), 'shown before the pin');
    assert.equal(JSON.parse(readFileSync(join(dir, 'v2.lock.json'), 'utf8')).servers.shop.reviewedBy, 'bob');

    // Nothing changed since: said so.
    const again = airlock(config('v2'), 'registry', 'approve', 'shop', '--by', 'bob');
    assert.match(again.stdout, /shop: no new or changed tool definitions since the previous pin/);

    const audit = airlock(config('v2'), 'audit', 'list', '--outcome', 'pinned', '--json');
    const pinned = (JSON.parse(audit.stdout) as Array<{ type: string; principal: string; data: { reviewedBy?: string } }>).filter((r) => r.type === 'registry.pinned');
    assert.deepEqual(
      pinned.map((r) => [r.principal, r.data.reviewedBy]),
      [
        ['alice', 'alice'],
        ['bob', 'bob'],
        ['bob', 'bob'],
      ],
    );
  });

  test('the findings are shown with the definitions, and block the pin', () => {
    const r = airlock(config('poisoned'), 'registry', 'approve', 'shop', '--by', 'carol');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\+ lookup \(new\)\n\{[\s\S]*<IMPORTANT>/);
    assert.match(r.stdout, /shop: \d+ finding\(s\) block approval:\nlookup description hidden-instruction: .* — fix: /);
    assert.match(r.stdout, /nothing was pinned/);
  });
});
