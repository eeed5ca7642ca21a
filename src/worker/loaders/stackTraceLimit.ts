// Webpack loader for @langchain/langgraph/dist/errors.js (src/worker/bundle.ts).
// LangGraph's error classes (EmptyChannelError, raised on ordinary conditional-edge reads) do
//   const prevLimit = Error.stackTraceLimit; Error.stackTraceLimit = 0; super(...); Error.stackTraceLimit = prevLimit;
// The reusable V8 context of the workflow sandbox deep-freezes `Error`, so the assignment throws in strict code.
// Each assignment becomes a no-op where `Error` is frozen, and stays as it is everywhere else.
// Written in TypeScript: the worker runs under tsx, which loads it for webpack.

/** The part of webpack's loader context this loader uses. */
export interface PatchLoaderContext {
  resourcePath: string;
  emitError(error: Error): void;
}

/** What the bundle contains once the patch applied (checked after bundling). */
export const STACK_TRACE_LIMIT_MARK = '/* airlock: frozen-safe Error.stackTraceLimit */';

export default function patchStackTraceLimit(this: PatchLoaderContext, source: string): string {
  let n = 0;
  const out = source.replace(/\bError\.stackTraceLimit\s*=(?!=)\s*([^;\n]+);/g, (_m, value: string) => {
    n++;
    return `${STACK_TRACE_LIMIT_MARK} try { Error.stackTraceLimit = ${value}; } catch (_e) {}`;
  });
  // An upgrade that moves or rewrites the assignment must not silently drop the fix: fail the bundle instead.
  if (n === 0) this.emitError(new Error(`airlock: no \`Error.stackTraceLimit = …\` assignment found in ${this.resourcePath}: LangGraph changed, update src/worker/loaders/stackTraceLimit.ts`));
  return out;
}
