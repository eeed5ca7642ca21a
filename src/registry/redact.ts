// Secret values a server connection knows (its credentials, its OAuth client secret and tokens, its
// sensitive header values) never leave the pool in an error, a log line or a tool result. Every
// text that crosses the pool's boundary goes through the server's redactor.
//
// Hand-written: the logger's redaction (pino `redact`) masks fields by path, and these are values
// that can turn up anywhere inside a message a hostile server or token endpoint wrote.

export const REDACTED = '[REDACTED]';

/** Header names whose configured values are treated as secrets (the config may interpolate them from the environment). */
export const SENSITIVE_HEADER = /authorization|cookie|token|secret|key|password|credential|session|signature/i;

/** Shorter values are not masked: they would mangle ordinary text, and no real credential is that short. */
const MIN_LENGTH = 4;

/** Rotating values (OAuth access tokens) kept per server: the current ones and a few before them. */
const ROTATING_KEPT = 8;

export class Redactor {
  private readonly values = new Set<string>();
  private readonly rotating: string[] = [];

  /** Masks a value, and the encodings it travels in (URL, JSON string, base64). `rotating`: one of a series (tokens), of which the last few are kept. */
  add(value: string | undefined, opts: { rotating?: boolean } = {}): void {
    if (!value || value.length < MIN_LENGTH) return;
    if (!opts.rotating) {
      for (const v of encodings(value)) this.values.add(v);
      return;
    }
    if (this.rotating.includes(value)) return;
    this.rotating.push(value);
    if (this.rotating.length > ROTATING_KEPT) this.rotating.shift();
  }

  text(s: string): string {
    let out = s;
    // Longest first: a value that contains another is masked whole.
    for (const v of [...this.values, ...this.rotating.flatMap(encodings)].sort((a, b) => b.length - a.length)) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /** Every string of a JSON-like value, keys included. */
  deep<T>(value: T): T {
    if (!this.values.size && !this.rotating.length) return value;
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.deep(v)) as T;
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.text(k), this.deep(v)])) as T;
    return value;
  }

  /**
   * The same error, masked in place so its class (and what callers match on) stays: message, stack,
   * `data`/`body` fields and the cause chain. Not an Error: wrapped in one, masked.
   */
  error(err: unknown, depth = 0): unknown {
    if (!(err instanceof Error)) return new Error(this.text(String(err)));
    if (depth > 5) return err;
    const e = err as Error & { data?: unknown; body?: unknown };
    try {
      e.message = this.text(e.message);
      if (e.stack) e.stack = this.text(e.stack);
      if (e.data !== undefined) e.data = this.deep(e.data);
      if (typeof e.body === 'string') e.body = this.text(e.body);
      if (e.cause !== undefined) e.cause = this.error(e.cause, depth + 1);
    } catch {
      // A read-only property: replace the error with a plain one carrying only the masked message.
      return new Error(this.text(e.message));
    }
    return e;
  }
}

const encodings = (value: string) => [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64')];
