// The governance core is pure, and each of its rules is written in one place: these checks read the
// source tree and fail when a copy of a rule (or an I/O import in the core) comes back.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../src/config/load.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const p = join(dir, name);
    if (statSync(join(ROOT, p)).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const CODE = ['src', 'activities', 'workflows'].flatMap(sources);
/** Source without comments, so a rule described in prose does not count as a copy of it. */
const code = (file: string) =>
  readFileSync(join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');

test('the core imports nothing but itself and pure libraries: no Node built-ins, no Temporal, no Express, no I/O modules', () => {
  const core = CODE.filter((f) => f.startsWith('src/core/'));
  assert.ok(core.length >= 8, 'the core has its modules');
  for (const f of core)
    for (const m of code(f).matchAll(/^import\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm))
      assert.match(m[1]!, /^(\.\/[a-zA-Z]+\.js|@noble\/hashes\/[a-z0-9]+\.js)$/, `${f} imports ${m[1]}`);
});

/** Each rule, a pattern that only an implementation of it contains, and the one file allowed to hold it. */
const RULES: Array<{ rule: string; pattern: RegExp; home: string }> = [
  { rule: 'tool classification (read-only / idempotent / destructive hints)', pattern: /readOnlyHint|idempotentHint|destructiveHint/, home: 'src/core/tools.ts' },
  { rule: 'effective registry status (a catalog retirement wins)', pattern: /(status|catalog)\s*===\s*'retired'\s*(\?|\)\s*return\s+'retired')/, home: 'src/core/registry.ts' },
  { rule: 'who may decide (the escalation group joins once escalated)', pattern: /\.escalated\s*&&/, home: 'src/core/approvals.ts' },
  { rule: 'separation of duties (requester and on-behalf-of never decide)', pattern: /\[\s*\w+\.requestedBy\b|(requestedBy|onBehalfOf)\s*!==\s*\w+\.subject/, home: 'src/core/approvals.ts' },
  { rule: 'quorum (distinct approvers)', pattern: /\.size\s*>=\s*\w+\.quorum|>=\s*\w+\.quorum/, home: 'src/core/approvals.ts' },
  { rule: 'the duration grammar', pattern: /\(ms\|s\|m\|h\|d\)/, home: 'src/core/duration.ts' },
  { rule: 'canonical JSON', pattern: /\.sort\(\)\s*\n?\s*\.map\(\(k\)\s*=>\s*`\$\{JSON\.stringify\(k\)\}/, home: 'src/core/canonical.ts' },
  { rule: 'host allowlist matching (a host or its subdomains)', pattern: /endsWith\(`\.\$\{/, home: 'src/core/hosts.ts' },
  { rule: 'invisible-character sanitizing', pattern: /\\\\u\{E0000\}-\\\\u\{E007F\}/, home: 'src/core/sanitize.ts' },
];

test('no failure type is a string typed by hand: every code comes from the registry (ErrorCode.X)', () => {
  const literal = /(?<!name = )'(AuditUnavailable|PolicyDenied|PlannerFailed|ToolCallFailed|RegistryRefused|ServerNotFound|InvalidToolSchema|AlreadyDecided|DigestMismatch|InternalError)'/;
  assert.deepEqual(
    CODE.filter((f) => literal.test(code(f))),
    [],
  );
});

for (const { rule, pattern, home } of RULES) {
  test(`one place for ${rule}: ${home}`, () => {
    const holders = CODE.filter((f) => pattern.test(code(f)));
    assert.deepEqual(holders, [home], `${rule} is implemented in ${holders.join(', ') || 'no file'}`);
  });
}

test('nothing in src/ imports from examples/', () => {
  for (const f of CODE.filter((x) => x.startsWith('src/'))) assert.doesNotMatch(code(f), /from\s+['"][./]*examples\//, `${relative(ROOT, join(ROOT, f))} imports from examples/`);
});
