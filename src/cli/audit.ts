// `airlock audit …`: verify the hash chains and anchors, anchor now, export records.
import type { Command } from 'commander';
import { allRecords, auditPaths, openAuditStore } from '../audit/index.js';
import { readAnchors } from '../audit/anchorFile.js';
import { verifyRecords, type VerifyReport } from '../audit/chain.js';
import type { AuditStore } from '../audit/types.js';
import type { AirlockConfig } from '../config/load.js';

const out = (s: string) => process.stdout.write(s + '\n');

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

  audit
    .command('verify')
    .description('check every record, link and anchor; exits 1 and names each modified, deleted, reordered or inserted record')
    .option('--json', 'print the report as JSON')
    .action((opts: { json?: boolean }) =>
      withStore(async (store, config) => {
        const report = await verifyStore(store, auditPaths(config).anchorFile);
        if (opts.json) out(JSON.stringify(report, null, 2));
        else {
          out(`${store.kind} ${store.location}: ${report.records} records in ${report.chains} chains, ${report.anchorsChecked} anchored heads checked`);
          for (const p of report.problems) out(`TAMPERED (${p.kind}): ${p.message}`);
          out(report.ok ? 'OK: the audit trail is intact' : `FAILED: ${report.problems.length} problem(s)`);
        }
        process.exitCode = report.ok ? 0 : 1;
      }),
    );

  audit
    .command('anchor')
    .description('anchor the current chain heads now (the worker also does this every audit.anchorEvery)')
    .action(() =>
      withStore(async (store, config) => {
        const a = await store.anchor();
        out(a ? `anchor ${a.id}: ${Object.keys(a.heads).length} chain head(s), ${a.hash} (also in ${auditPaths(config).anchorFile})` : 'nothing new to anchor');
      }),
    );

  audit
    .command('export')
    .description('write records as JSON lines to stdout')
    .option('--run <runId>', 'only this run')
    .option('--principal <subject>', 'only this principal (or on behalf of)')
    .option('--tool <server.tool>', 'only this tool')
    .option('--outcome <outcome>', 'only this outcome')
    .option('--from <iso>', 'at or after this time')
    .option('--to <iso>', 'before this time')
    .action((opts: { run?: string; principal?: string; tool?: string; outcome?: string; from?: string; to?: string }) =>
      withStore(async (store) => {
        const time = (s: string | undefined, name: string) => {
          if (s === undefined) return undefined;
          const t = new Date(s);
          if (Number.isNaN(t.getTime())) throw new Error(`--${name} "${s}" is not an ISO-8601 time`);
          return t.toISOString();
        };
        const q = { runId: opts.run, principal: opts.principal, tool: opts.tool, outcome: opts.outcome, from: time(opts.from, 'from'), to: time(opts.to, 'to') };
        for await (const r of allRecords(store, q)) out(JSON.stringify(r));
      }),
    );
}
