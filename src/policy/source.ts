import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyEngine } from './engine.js';

/**
 * The policy set a worker decides with, reloaded when the directory changes: a new decision always
 * uses the policies on disk. Decisions already taken are in workflow history and never re-evaluated,
 * so a policy change cannot break the replay of a running workflow.
 *
 * If a reload fails (a syntax error, a policy that violates the schema, a missing schema), the source
 * holds the error and every decision is denied until the directory is fixed: fail closed, never
 * "keep using the old policies" silently.
 */
export class PolicySource {
  private fingerprint = '';
  private state: PolicyEngine | Error;

  /** Loads at startup; a bad policy directory is a startup error naming the file and line. */
  constructor(readonly dir: string) {
    this.fingerprint = this.scan();
    this.state = PolicyEngine.load(dir);
  }

  /** The current engine, or the error that makes every decision a denial. */
  current(): PolicyEngine | Error {
    let fp: string;
    try {
      fp = this.scan();
    } catch (err) {
      this.fingerprint = '';
      return (this.state = new Error(`policy directory ${this.dir} is unreadable: ${(err as Error).message}`));
    }
    if (fp !== this.fingerprint) {
      this.fingerprint = fp;
      try {
        this.state = PolicyEngine.load(this.dir);
      } catch (err) {
        this.state = err as Error;
      }
    }
    return this.state;
  }

  /** Cheap change detection: names, sizes and modification times of the directory's files. */
  private scan(): string {
    return readdirSync(this.dir)
      .sort()
      .map((f) => {
        const st = statSync(join(this.dir, f));
        return `${f}:${st.size}:${st.mtimeMs}`;
      })
      .join('|');
  }
}
