// `airlock readiness`: the governance readiness report for the configuration, as text or JSON.
import { Option, type Command } from 'commander';
import type { AirlockConfig } from '../config/load.js';
import { formatReadiness } from '../readiness/format.js';
import { buildReadinessReport, type ReadinessDeps } from '../readiness/report.js';

export interface ReadinessIo {
  out: (s: string) => void;
  /** Extra inputs for the report (tests); by default it reads the policy dir, lockfile and status file. */
  deps?: ReadinessDeps;
}

/** Prints the report; returns the exit code: 1 when any gap is an error, else 0. */
export function runReadiness(config: AirlockConfig, opts: { json?: boolean }, io: ReadinessIo): number {
  const report = buildReadinessReport(config, io.deps);
  io.out(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReadiness(report));
  return report.ok ? 0 : 1;
}

export function registerReadiness(program: Command, load: () => AirlockConfig, io: ReadinessIo = { out: (s) => void process.stdout.write(s) }): void {
  program
    .command('readiness')
    .description(
      'answer the six governance readiness questions from the configuration (approved agents, certified servers, identity, ' +
        'approvals, validation/logging/monitoring, independent change), with links to the config and the gaps found. ' +
        'Exits 1 when any gap is an error, so it can gate a deployment. Use the global --config <file> to pick the configuration.',
    )
    // The global --json; also accepted here for programs that register only this command (tests).
    .addOption(new Option('--json', 'print the report as JSON').hideHelp())
    .action((_opts: unknown, cmd: Command) => {
      process.exitCode = runReadiness(load(), { json: cmd.optsWithGlobals<{ json?: boolean }>().json }, io);
    });
}
