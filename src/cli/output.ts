// What the CLI prints: tables with a header row for people, JSON (the global --json) for programs.
import type { Command } from 'commander';

/** A column: its header and how to read its cell from a row (`-` when empty). */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | undefined | null;
}

const cell = (v: string | number | undefined | null) => (v === undefined || v === null || v === '' ? '-' : String(v));

/** Formats rows as a left-aligned table under a header row (two spaces between columns, no trailing blanks). */
export function table<T>(columns: Column<T>[], rows: T[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return (
    cells
      .map((line) =>
        line
          .map((cell, i) => (i === line.length - 1 ? cell : cell + ' '.repeat(widths[i]! - cell.length)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Whether the global --json (or, for commands that had their own, the command's --json) was given. */
export function wantsJson(cmd: Command): boolean {
  return Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
}

/** Writes `value` as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Writes a line on stdout. */
export function printLine(s: string): void {
  process.stdout.write(s + '\n');
}
