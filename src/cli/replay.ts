// `airlock replay <history.json|dir…>`: replays recorded run histories against the configured workflows and agent
// modules (the bundle `airlock worker` would run), one line per history, exit 1 if any fails: run it before deploying
// a changed graph. `airlock replay --fetch <runId…> --out <dir>` records histories from the configured Temporal.
import { Option, type Command } from 'commander';
import type { AirlockConfig } from '../config/load.js';

export interface ReplayIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: ReplayIo = { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) };

interface ReplayOpts {
  fetch?: boolean;
  out?: string;
  /** Print the results as JSON (the global --json). */
  json?: boolean;
}

/** Replays (or with --fetch records) histories; returns the exit code: 0 all ok, 1 any failed, 2 usage error. */
export async function runReplay(load: () => AirlockConfig, args: string[], opts: ReplayOpts, io: ReplayIo = stdio): Promise<number> {
  const usage = (m: string) => (io.err(`airlock replay: ${m} (see airlock replay --help)\n`), 2);
  if (!args.length) return usage(opts.fetch ? 'name the run ids to fetch' : 'name the history files (or directories of them) to replay');
  if (opts.fetch && !opts.out) return usage('--fetch needs --out <dir>');
  if (!opts.fetch && opts.out) return usage('--out goes with --fetch');
  const config = load();
  // Loaded here: the Temporal worker and webpack are heavy, and the other commands do not need them.
  const { fetchHistories, historyFiles, replayHistories, temporalClient } = await import('../worker/replay.js');
  if (opts.fetch) {
    const { client, close } = await temporalClient(config);
    try {
      const files = await fetchHistories(client, args, opts.out!);
      if (opts.json) io.out(JSON.stringify({ wrote: files }, null, 2) + '\n');
      else for (const file of files) io.out(`wrote ${file}\n`);
    } finally {
      await close();
    }
    return 0;
  }
  const files = historyFiles(args);
  if (!files.length) return usage(`no *.json history files in ${args.join(' ')}`);
  const results = await replayHistories(config, files);
  if (opts.json) io.out(JSON.stringify(results, null, 2) + '\n');
  else for (const r of results) io.out(r.ok ? `ok ${r.file}\n` : `FAIL ${r.file}: ${r.kind === 'invalid' ? '' : `${r.workflowId}: `}${r.error}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

export function registerReplay(program: Command, load: () => AirlockConfig, io: ReplayIo = stdio): void {
  program
    .command('replay')
    .description(
      'replay recorded run histories (JSON files, or directories of them) against the configured workflows and agent graphs, ' +
        'one line per history; exits 1 if any no longer replays (the change would break runs in flight). ' +
        'With --fetch, write the histories of the given run ids from the configured Temporal to --out instead.',
    )
    .argument('[histories...]', 'history files or directories (with --fetch: run ids)')
    .addOption(new Option('--fetch', 'fetch the histories of these run ids from Temporal'))
    .option('--out <dir>', 'where --fetch writes <runId>.json files')
    // Usage errors exit 2 (a failed replay exits 1): commander's own go through src/cli/errors.ts.
    .action(async (args: string[], opts: ReplayOpts, cmd: Command) => {
      // The replay worker's state changes are not news here: only the SDK's warnings and errors go to stderr.
      const { DefaultLogger, Runtime } = await import('@temporalio/worker');
      Runtime.install({ logger: new DefaultLogger('WARN') });
      process.exitCode = await runReplay(load, args, { ...opts, json: cmd.optsWithGlobals<{ json?: boolean }>().json }, io);
    });
}
