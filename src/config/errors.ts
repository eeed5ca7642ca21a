// Config errors: every problem found in one report, each at the line and column of what to change.

/** One problem in the config: where it is, what is wrong, and what to do about it. */
export interface ConfigIssue {
  file: string;
  /** 1-based; absent for problems outside the file (the environment, an unreadable file). */
  line?: number;
  col?: number;
  /** The key's path in the config (`agents.a.approvals.expiresAfter`, `routing.routes[0].models`); '' for the whole file. */
  path: string;
  message: string;
  fix?: string;
}

/** `<file>:<line>:<col>: <path>: <message> (fix: …)` */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}:${i.col ?? 1}` : i.file;
  return `${where}: ${i.path ? `${i.path}: ` : ''}${i.message}${i.fix ? ` (fix: ${i.fix})` : ''}`;
}

/** By file, then line and column; problems without a line first. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) : a.file < b.file ? -1 : 1));
}

/** `a.b[0].c` */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/**
 * A config that cannot be used. `message` is the whole report, one problem per line sorted by line (no header, so
 * its first line alone still names the first problem); `issues` has them one by one, and `line`/`col` are the first one's.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];
  readonly line?: number;
  readonly col?: number;
  constructor(
    problem: string | readonly ConfigIssue[],
    readonly file: string,
    line?: number,
    col?: number,
  ) {
    const issues = typeof problem === 'string' ? [{ file, path: '', message: problem, ...(line ? { line } : {}), ...(col ? { col } : {}) }] : sortIssues(problem);
    const lines = issues.map((i) => (typeof problem === 'string' && i.col === undefined ? legacy(i) : formatIssue(i)));
    super(lines.join('\n'));
    this.issues = issues;
    this.line = issues[0]?.line;
    this.col = issues[0]?.col;
  }
}

/** A single message raised without a column (other modules' `new ConfigError(message, file, line)`): `<file>:<line>: <message>`. */
function legacy(i: ConfigIssue): string {
  return i.line ? `${i.file}:${i.line}: ${i.message}` : `${i.file}: ${i.message}`;
}
