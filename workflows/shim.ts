// Imported first by every workflow file. The Temporal workflow sandbox lacks a few web
// globals that LangGraph's browser build expects. Everything here stays deterministic:
// randomness comes from the sandbox's seeded Math.random, which replays identically.
import { ReadableStream, TransformStream, WritableStream } from 'web-streams-polyfill';

const g = globalThis as Record<string, unknown>;
if (!g.ReadableStream) Object.assign(g, { ReadableStream, WritableStream, TransformStream });
if (!g.queueMicrotask) g.queueMicrotask = (fn: () => void) => void Promise.resolve().then(fn);
if (!g.crypto) {
  const getRandomValues = <T extends ArrayBufferView | null>(arr: T): T => {
    if (arr) {
      const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    return arr;
  };
  const randomUUID = () => {
    const b = getRandomValues(new Uint8Array(16));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  g.crypto = { getRandomValues, randomUUID };
}
if (!g.AbortSignal) {
  // The sandbox has AbortController (so signals exist) but no global AbortSignal, which LangChain core reads when it
  // merges two signals (mergeConfigs: `"any" in AbortSignal`, a ReferenceError here) or applies a `timeout` config.
  // `any` and `abort` only compose controllers, which is deterministic. `timeout` would abort on the host's wall clock,
  // outside any workflow activation: it throws instead (leave LangChain/LangGraph timeouts unset; activities have theirs).
  const NativeAbortSignal = new AbortController().signal.constructor as typeof AbortSignal;
  class SandboxAbortSignal {
    static [Symbol.hasInstance](x: unknown): boolean {
      return x instanceof NativeAbortSignal;
    }
    static any(signals: Iterable<AbortSignal>): AbortSignal {
      const list = [...signals];
      const controller = new AbortController();
      const aborted = list.find((s) => s.aborted);
      if (aborted) controller.abort(aborted.reason);
      else for (const s of list) s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
      return controller.signal;
    }
    static abort(reason?: unknown): AbortSignal {
      const controller = new AbortController();
      controller.abort(reason);
      return controller.signal;
    }
    static timeout(ms: number): AbortSignal {
      throw new Error(`AbortSignal.timeout(${ms}) is not available in workflow code: it needs a wall clock. Leave LangChain/LangGraph timeouts unset; activities have their own`);
    }
  }
  g.AbortSignal = SandboxAbortSignal;
}
