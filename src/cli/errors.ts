// The CLI's one error path: every mistake is one line on stderr naming the problem and the fix, exit 2 for
// usage errors (bad or missing arguments, options, users, durations, dates) and 1 for failures (a server down,
// nothing found). Stack traces only with the global --debug.
import { CommanderError, type Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { PolicyError } from '../policy/engine.js';
import { LockError } from '../registry/lock.js';

/** Exit codes of the CLI. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one line (`airlock: <message>`) and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A usage error (exit 2): a bad or missing argument or option. */
export const usageError = (message: string, options?: { cause?: unknown }) => new CliError(message, ExitCode.usage, options);

/** Help or version was printed: exit with its code and print nothing more. */
class HelpShown extends Error {
  constructor(readonly exitCode: number) {
    super('help shown');
  }
}

const commandPath = (cmd: Command): string => {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
};

/** Hint appended to usage errors: where the help of the command is. */
export const seeHelp = (cmd: Command) => `see ${commandPath(cmd)} --help`;

/**
 * Routes commander's own errors (unknown option, missing argument, …) of `program` and all its subcommands
 * through {@link CliError}, and shows the global options in every subcommand's help. Call after registering commands.
 */
export function configureCommands(program: Command): void {
  const visit = (cmd: Command) => {
    cmd
      .configureHelp({ showGlobalOptions: true })
      .configureOutput({ outputError: () => {} })
      .exitOverride((err: CommanderError) => {
        if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') throw new HelpShown(err.exitCode);
        // A command with subcommands run without one prints its help to stderr: a usage error.
        if (err.code === 'commander.help') throw new HelpShown(ExitCode.usage);
        throw usageError(`${err.message.replace(/^error: /, '').replace(/\.$/, '')} (${seeHelp(cmd)})`, { cause: err });
      });
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
}

/** The one line and the exit code for an error that reached the top. */
export function describeError(err: unknown): { line: string; exitCode: number } {
  const first = (s: string) => s.split('\n').find((l) => l.trim()) ?? s;
  if (err instanceof CliError) return { line: first(err.message), exitCode: err.exitCode };
  // The config's report lists every mistake, one per line: all of it is shown.
  if (err instanceof ConfigError) {
    const issues = err.message.split('\n').filter(Boolean);
    return {
      line: issues.length > 1 ? `config error (${issues.length} problems):\n${issues.join('\n')}` : `config error: ${first(err.message)} (fix the file, or pick another with --config <file>)`,
      exitCode: ExitCode.usage,
    };
  }
  if (err instanceof LockError) return { line: `registry lockfile error: ${first(err.message)}`, exitCode: ExitCode.failure };
  if (err instanceof PolicyError) return { line: `policy error: ${first(err.message)}`, exitCode: ExitCode.failure };
  if (err instanceof CommanderError) return { line: first(err.message.replace(/^error: /, '')), exitCode: ExitCode.usage };
  const message = err instanceof Error ? err.message : String(err);
  return { line: `${first(message) || 'unexpected error'} (run with --debug for details)`, exitCode: ExitCode.failure };
}

/** Parses the command line, reporting any error as one line on stderr (with the stack under --debug). */
export async function runCli(program: Command, argv: string[] = process.argv): Promise<void> {
  configureCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof HelpShown) {
      process.exitCode = err.exitCode;
      return;
    }
    const { line, exitCode } = describeError(err);
    process.stderr.write(`airlock: ${line}\n`);
    const debug = program.opts<{ debug?: boolean }>().debug || argv.includes('--debug');
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    // As before: an error ends the process even if a pool or a timer is still open.
    process.exit(exitCode);
  }
}
