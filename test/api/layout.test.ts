// The API is a thin adapter: routes use the dependencies createApp receives and never build their own
// stores, pools or connections, and no module grows back into one closure.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../src/config/load.js';

const API = join(ROOT, 'src', 'api');
const files = readdirSync(API, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

test('only the dependency factory constructs stores, pools and connections', () => {
  const builds = /new (McpPool|LockStore|StatusStore|PolicySource|RegistryAudit|Client|Connection)\b|Connection\.connect\(/;
  assert.deepEqual(
    files.filter((f) => builds.test(readFileSync(join(API, f), 'utf8'))),
    ['deps.ts'],
  );
});

test('no API module over 200 lines', () => {
  for (const f of files) {
    const lines = readFileSync(join(API, f), 'utf8').split('\n').length;
    assert.ok(lines <= 200, `src/api/${f} has ${lines} lines`);
  }
});
