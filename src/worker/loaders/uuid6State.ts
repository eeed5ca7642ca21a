// Webpack loader for @langchain/langgraph-checkpoint/dist/id.js (src/worker/bundle.ts).
// uuid6() (checkpoint ids, from which LangGraph derives task and interrupt ids) keeps its sequence in module-level
// `let lastMsecs = 0; let lastNsecs = 0;`. LangGraph is a preloaded module, shared by every run in a workflow thread,
// so that counter leaks between runs: a run computes other checkpoint ids (and interrupt ids) live than on replay.
// The counter moves onto globalThis, which the sandbox gives each run on its own (and a fresh one on replay).
import type { PatchLoaderContext } from './stackTraceLimit.js';

/** The per-run global holding the counter; its presence in the bundle shows that the patch applied. */
export const UUID6_STATE_GLOBAL = '__airlockUuid6State';

export default function patchUuid6State(this: PatchLoaderContext, source: string): string {
  const decl = /\blet lastMsecs = 0;\s*let lastNsecs = 0;/;
  if (!decl.test(source)) {
    this.emitError(new Error(`airlock: the module-level uuid6 counter (let lastMsecs/lastNsecs) was not found in ${this.resourcePath}: LangGraph changed, update src/worker/loaders/uuid6State.ts`));
    return source;
  }
  const state = `globalThis.${UUID6_STATE_GLOBAL}`;
  return source
    .replace(decl, '/*__AIRLOCK_UUID6_STATE__*/')
    .replace(/\blast(M|N)secs\b/g, '__airlockUuid6().last$1secs')
    .replace('/*__AIRLOCK_UUID6_STATE__*/', `const __airlockUuid6 = () => (${state} ??= { lastMsecs: 0, lastNsecs: 0 });`);
}
