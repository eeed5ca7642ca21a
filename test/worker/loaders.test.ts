// The webpack loaders that make LangGraph safe in the shared, frozen workflow sandbox (src/worker/loaders/), run on the
// installed LangGraph files: each patches what it must, the patched code works where the unpatched one fails, and a
// file without the pattern fails the bundle instead of shipping without the fix.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import vm from 'node:vm';
import { ROOT } from '../../src/config/load.js';
import patchStackTraceLimit, { STACK_TRACE_LIMIT_MARK, type PatchLoaderContext } from '../../src/worker/loaders/stackTraceLimit.js';
import patchUuid6State, { UUID6_STATE_GLOBAL } from '../../src/worker/loaders/uuid6State.js';

const require = createRequire(join(ROOT, 'package.json'));
const distFile = (pkg: string, file: string) => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', file);

function run(loader: (this: PatchLoaderContext, source: string) => string, resourcePath: string, source = readFileSync(resourcePath, 'utf8')) {
  const errors: Error[] = [];
  const out = loader.call({ resourcePath, emitError: (e) => errors.push(e) }, source);
  return { out, errors };
}

describe('webpack loaders for LangGraph', () => {
  test('Error.stackTraceLimit: every assignment in langgraph/dist/errors.js becomes safe where Error is frozen', () => {
    const file = distFile('@langchain/langgraph', 'errors.js');
    const { out, errors } = run(patchStackTraceLimit, file);
    assert.deepEqual(errors, []);
    assert.ok(out.split(STACK_TRACE_LIMIT_MARK).length - 1 >= 2, 'both assignments of EmptyChannelError');
    assert.doesNotMatch(out.replace(/try \{ Error\.stackTraceLimit = [^;]+; \} catch \(_e\) \{\}/g, ''), /Error\.stackTraceLimit\s*=(?!=)/, 'no assignment left unguarded');

    // The pattern as LangGraph writes it, in a context whose Error is frozen (as the reusable V8 context's is).
    const snippet = 'class E extends Error { constructor(m) { const prev = Error.stackTraceLimit; Error.stackTraceLimit = 0; super(m); Error.stackTraceLimit = prev; } }\nnew E("x").message';
    const frozen = () => {
      const context = vm.createContext({});
      vm.runInContext('"use strict"; Object.freeze(Error);', context);
      return context;
    };
    assert.throws(() => vm.runInContext(`"use strict"; ${snippet}`, frozen()), /read only property 'stackTraceLimit'/);
    assert.equal(vm.runInContext(`"use strict"; ${run(patchStackTraceLimit, 'snippet.js', snippet).out}`, frozen()), 'x');
  });

  test('uuid6: the checkpoint-id counter of langgraph-checkpoint/dist/id.js lives on each run\u2019s globals', () => {
    const file = distFile('@langchain/langgraph-checkpoint', 'id.js');
    const { out, errors } = run(patchUuid6State, file);
    assert.deepEqual(errors, []);
    assert.doesNotMatch(out, /\blet last[MN]secs\b/);
    assert.ok(out.includes(`globalThis.${UUID6_STATE_GLOBAL}`));

    // Two "runs" (two globals) calling the patched uuid6 at the same millisecond: each starts its own sequence.
    const body = out.replace(/^import .*$/m, 'const v6 = (o) => `${o.msecs}:${o.nsecs}`;').replace(/^export .*$/m, '');
    const uuid6 = () => {
      const context = vm.createContext({ Date: { now: () => 1_000 } });
      vm.runInContext(`${body}\nglobalThis.uuid6 = uuid6;`, context);
      return context.uuid6 as () => string;
    };
    const first = uuid6();
    assert.deepEqual([first(), first()], ['1000:0', '1000:1']);
    const second = uuid6();
    assert.equal(second(), '1000:0', 'a new run does not continue another run\u2019s sequence');
  });

  test('a file without the pattern fails the bundle (a LangGraph upgrade cannot drop a fix silently)', () => {
    const a = run(patchStackTraceLimit, '/x/errors.js', 'export class E extends Error {}\n');
    assert.equal(a.errors.length, 1);
    assert.match(a.errors[0]!.message, /no `Error\.stackTraceLimit = …` assignment found in \/x\/errors\.js/);
    const b = run(patchUuid6State, '/x/id.js', 'export const uuid6 = () => 1;\n');
    assert.equal(b.errors.length, 1);
    assert.match(b.errors[0]!.message, /uuid6 counter .* was not found in \/x\/id\.js/);
    assert.equal(b.out, 'export const uuid6 = () => 1;\n');
  });
});
