// `airlock audit …`: verify the hash chains and anchors, anchor now, list or export records.
import type { Command } from 'commander';
import { allRecords, auditPaths, openAuditStore } from '../audit/index.js';
import { readAnchors } from '../audit/anchorFile.js';
import { verifyRecords, type VerifyReport } from '../audit/chain.js';
import type { AuditQuery, AuditRecord, AuditStore } from '../audit/types.js';
import type { AirlockConfig } from '../config/load.js';
import { CliError, usageError } from './errors.js';
import { printJson, printLine as out, table, wantsJson } from './output.js';

interface FilterOpts {
  run?: string;
  principal?: string;
  tool?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

/** The store query of the filter options; a date that does not parse is a usage error. */
function filterQuery(opts: FilterOpts): Omit<AuditQuery, 'limit'> {
  const time = (s: string | undefined, name: string) => {
    if (s === undefined) return undefined;
    const t = new Date(s);
    if (Number.isNaN(t.getTime())) throw usageError(`--${name} "${s}" is not a date: give an ISO-8601 time, e.g. --${name} 2026-11-30 or 2026-11-30T12:00:00Z`);
    return t.toISOString();
  };
  return { runId: opts.run, principal: opts.principal, tool: opts.tool, outcome: opts.outcome, from: time(opts.from, 'from'), to: time(opts.to, 'to') };
}

/** "Nothing found" for a filter: exit 1, naming what was asked for. */
function noRecords(opts: FilterOpts): CliError {
  const asked = Object.entries(opts)
    .filter(([k, v]) => v !== undefined && k !== 'limit')
    .map(([k, v]) => `${k} ${String(v)}`);
  return new CliError(asked.length ? `no audit records for ${asked.join(', ')}` : 'no audit records yet: the trail is empty');
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--run <runId>', 'only this run')
    .option('--principal <subject>', 'only this principal (or on behalf of)')
    .option('--tool <server.tool>', 'only this tool')
    .option('--outcome <outcome>', 'only this outcome')
    .option('--from <iso>', 'at or after this time')
    .option('--to <iso>', 'before this time');
}

const RECORD_COLUMNS = [
  { header: 'SEQ', value: (r: AuditRecord) => r.seq },
  { header: 'AT', value: (r: AuditRecord) => r.at },
  { header: 'TYPE', value: (r: AuditRecord) => r.type },
  { header: 'RUN', value: (r: AuditRecord) => r.runId },
  { header: 'PRINCIPAL', value: (r: AuditRecord) => r.principal },
  { header: 'TOOL', value: (r: AuditRecord) => (r.tool ? `${r.server ? `${r.server}.` : ''}${r.tool}` : undefined) },
  { header: 'OUTCOME', value: (r: AuditRecord) => r.outcome },
];

/** Verifies every chain of the store against its links, its heads and its anchors (the table and the file). */
export async function verifyStore(store: AuditStore, anchorFile?: string): Promise<VerifyReport> {
  const [records, heads, anchors] = await Promise.all([store.allRecords(), store.heads(), store.anchors()]);
  return verifyRecords(records, heads, anchors, readAnchors(anchorFile));
}

export function auditCommands(program: Command, load: () => AirlockConfig): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  const withStore = async <T>(fn: (store: AuditStore, config: AirlockConfig) => Promise<T>): Promise<T> => {
    const config = load();
    const store = await openAuditStore(config);
    try {
      return await fn(store, config);
    } finally {
      await store.close();
    }
  };

  const verify = audit
    .command('verify')
    .description('check every record, link and anchor; exits 1 and names each modified, deleted, reordered or inserted record')
    .action(() =>
      withStore(async (store, config) => {
        const report = await verifyStore(store, auditPaths(config).anchorFile);
        if (wantsJson(verify)) printJson(report);
        else {
          out(`${store.kind} ${store.location}: ${report.records} records in ${report.chains} chains, ${report.anchorsChecked} anchored heads checked`);
          for (const p of report.problems) out(`TAMPERED (${p.kind}): ${p.message}`);
          out(report.ok ? 'OK: the audit trail is intact' : `FAILED: ${report.problems.length} problem(s)`);
        }
        process.exitCode = report.ok ? 0 : 1;
      }),
    );

  const anchor = audit
    .command('anchor')
    .description('anchor the current chain heads now (the worker also does this every audit.anchorEvery)')
    .action(() =>
      withStore(async (store, config) => {
        const a = await store.anchor();
        if (wantsJson(anchor)) return printJson({ anchor: a ?? null, anchorFile: auditPaths(config).anchorFile });
        out(a ? `anchor ${a.id}: ${Object.keys(a.heads).length} chain head(s), ${a.hash} (also in ${auditPaths(config).anchorFile})` : 'nothing new to anchor');
      }),
    );

  const list = withFilters(audit.command('list').description('records as a table (with --json: an array); exits 1 when none match'))
    .option('--limit <n>', 'at most this many, the latest', '50')
    .action((opts: FilterOpts & { limit: string }) => {
      const limit = Number(opts.limit);
      if (!(Number.isInteger(limit) && limit > 0)) throw usageError(`--limit "${opts.limit}" is not a count: give a positive whole number, e.g. --limit 20`);
      const q = filterQuery(opts);
      return withStore(async (store) => {
        const records: AuditRecord[] = [];
        for await (const r of allRecords(store, q)) {
          records.push(r);
          if (records.length > limit) records.shift();
        }
        if (!records.length) throw noRecords(opts);
        if (wantsJson(list)) printJson(records);
        else process.stdout.write(table(RECORD_COLUMNS, records));
      });
    });

  withFilters(audit.command('export').description('write records as JSON lines to stdout (also with --json); exits 1 when none match')).action((opts: FilterOpts) => {
    const q = filterQuery(opts);
    return withStore(async (store) => {
      let n = 0;
      for await (const r of allRecords(store, q)) {
        out(JSON.stringify(r));
        n++;
      }
      if (!n) throw noRecords(opts);
    });
  });
}
