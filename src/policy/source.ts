import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PolicyEngine } from './engine.js';

/**
 * The policy set a worker decides with, reloaded when the directory changes: a new decision always
 * uses the policies on disk. Decisions already taken are in workflow history and never re-evaluated,
 * so a policy change cannot break the replay of a running workflow.
 *
 * If a reload fails (a syntax error, a policy that violates the schema, a missing schema, a `*.cedar`
 * entry that is not a readable file), the source holds the error and every decision is denied until the
 * directory is fixed: fail closed, never "keep using the old policies" silently, and never a set with
 * fewer policies than the directory holds.
 */
export class PolicySource {
  private fingerprint = '';
  private state: PolicyEngine | Error;

  /** Loads at startup; a bad policy directory is a startup error naming the file and line. */
  constructor(readonly dir: string) {
    try {
      this.fingerprint = this.scan();
    } catch {
      // A missing or unreadable directory: load names it.
    }
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

  /**
   * Cheap change detection: each entry's name, inode, size, mode and times. An entry that cannot be
   * stat'ed (a dangling symlink, a loop) is part of the fingerprint with its error, so the load that
   * follows reports it rather than this scan throwing.
   */
  private scan(): string {
    return readdirSync(this.dir)
      .sort()
      .map((f) => {
        const p = join(this.dir, f);
        let st: Stats;
        try {
          st = statSync(p);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'error';
          const link = lstatSync(p, { throwIfNoEntry: false });
          return `${f}:!${code}:${link ? `${link.ino}:${link.mtimeMs}:${link.ctimeMs}` : 'gone'}`;
        }
        return `${f}:${st.ino}:${st.size}:${st.mode}:${st.mtimeMs}:${st.ctimeMs}`;
      })
      .join('|');
  }
}
