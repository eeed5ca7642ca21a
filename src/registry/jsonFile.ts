// A small JSON state file shared by processes: re-read when its size or mtime changes, validated
// with a schema, written atomically. A missing file is `empty`; an unreadable or invalid one is an
// Error value (callers fail closed on it), never silently "empty".
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';

export class JsonStateFile<T> {
  private stamp = '';
  private state: T | Error;

  constructor(
    readonly file: string,
    private readonly schema: z.ZodType<T>,
    private readonly empty: () => T,
    private readonly makeError: (message: string) => Error = (m) => new Error(m),
  ) {
    this.state = empty();
  }

  current(): T | Error {
    let stamp = 'missing';
    try {
      if (existsSync(this.file)) {
        const st = statSync(this.file);
        stamp = `${st.size}:${st.mtimeMs}`;
      }
    } catch (err) {
      return (this.state = this.makeError(`cannot read ${this.file}: ${(err as Error).message}`));
    }
    if (stamp === this.stamp) return this.state;
    this.stamp = stamp;
    if (stamp === 'missing') return (this.state = this.empty());
    try {
      const parsed = this.schema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      this.state = parsed.success ? parsed.data : this.makeError(`${this.file}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    } catch (err) {
      this.state = this.makeError(`${this.file}: ${(err as Error).message}`);
    }
    return this.state;
  }

  write(value: T): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
    renameSync(tmp, this.file);
  }
}
