// workflows/ must stay deterministic: no Node built-ins, no I/O modules, activities by type only.
// The governance core (src/core/) and the agent SDK (src/agent/, bundled into the sandbox with the agents that
// import it) are the parts of src/ it may import: test/core/purity.test.ts keeps the core pure, lint the SDK.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WORKFLOWS_DIR } from '../../src/worker/bundle.js';

const ALLOWED = [
  /^@temporalio\/(workflow|common)$/,
  /^@langchain\/langgraph(\/prebuilt)?$/,
  // LangChain core's pure parts: messages, tools, the chat model base class, the run context (singletons).
  /^@langchain\/core\/(messages|tools|outputs|runnables|singletons|language_models\/chat_models|utils\/function_calling)$/,
  /^web-streams-polyfill$/,
  /^langsmith\/run_trees$/,
  /^\.\/[a-zA-Z]+\.js$/,
  /^\.\.\/src\/core\/[a-zA-Z]+\.js$/,
  /^\.\.\/src\/agent\/[a-zA-Z]+\.js$/,
];

test('workflow files import only deterministic modules', () => {
  const files = readdirSync(WORKFLOWS_DIR).filter((x) => x.endsWith('.ts'));
  assert.ok(files.includes('agentRun.ts'));
  for (const f of files) {
    const src = readFileSync(join(WORKFLOWS_DIR, f), 'utf8');
    for (const m of src.matchAll(/^import\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      const [, typeOnly, spec] = m;
      if (typeOnly) continue; // erased at compile time
      assert.ok(
        ALLOWED.some((re) => re.test(spec!)),
        `${f} imports "${spec}", which is not allowed in workflow code`,
      );
    }
    assert.doesNotMatch(src, /\bprocess\.env\b|\bfetch\(|\bsetInterval\(/, `${f} uses I/O or non-deterministic APIs`);
  }
});
