// Governance readiness: the six answers come from the live configuration with links to real lines,
// and a deliberately misconfigured setup is flagged with the specific gaps (and a failing exit code).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { loadConfig, ROOT } from '../../src/config/load.js';
import { registerReadiness } from '../../src/cli/readiness.js';
import { formatReadiness } from '../../src/readiness/format.js';
import { buildReadinessReport, type ReadinessReport } from '../../src/readiness/report.js';

const EXAMPLES = join(ROOT, 'examples');
const dir = mkdtempSync(join(tmpdir(), 'airlock-readiness-'));
const env = { AIRLOCK_DATA_DIR: join(dir, 'data') };
/** The misconfigured setup's data dir holds a runtime quarantine decision. */
const badEnv = { AIRLOCK_DATA_DIR: join(dir, 'data-bad') };

const exampleLock = JSON.parse(readFileSync(join(EXAMPLES, 'airlock.lock.json'), 'utf8')) as { version: 1; servers: Record<string, unknown> };
const lineAt = (file: string, line: number) => readFileSync(file, 'utf8').split('\n')[line - 1]!;
const codes = (r: ReadinessReport, severity?: 'error' | 'warning') => [...new Set(r.gaps.filter((g) => !severity || g.severity === severity).map((g) => g.code))].sort();
const gapsOf = (r: ReadinessReport, code: string) => r.gaps.filter((g) => g.code === code);

// A deliberately misconfigured setup: billing has no owner, ledger was never pinned, ticketing was
// quarantined at run time, and the policies neither cover refunds nor require any approval, yet
// refund-bot is autonomous with write tools. `viewer` is read-only and must not be blamed for writes.
mkdirSync(join(dir, 'policies'));
copyFileSync(join(EXAMPLES, 'policies', 'schema.cedarschema'), join(dir, 'policies', 'schema.cedarschema'));
writeFileSync(
  join(dir, 'policies', 'partial.cedar'),
  `@id("read-only-tools")
permit (principal, action in Airlock::Action::"read", resource) when { resource.readOnly };

@id("crm-notes")
permit (principal, action == Airlock::Action::"crm.add_note", resource);
`,
);
mkdirSync(join(dir, 'broken'));
copyFileSync(join(EXAMPLES, 'policies', 'schema.cedarschema'), join(dir, 'broken', 'schema.cedarschema'));
writeFileSync(join(dir, 'broken', 'bad.cedar'), '// a missing comma\n\npermit (principal action, resource);\n');
const { crm, billing, ticketing } = exampleLock.servers;
writeFileSync(join(dir, 'airlock.lock.json'), JSON.stringify({ version: 1, servers: { billing, crm, ticketing } }, null, 2));
mkdirSync(badEnv.AIRLOCK_DATA_DIR);
writeFileSync(
  join(badEnv.AIRLOCK_DATA_DIR, 'registry-status.json'),
  JSON.stringify({ version: 1, servers: { ticketing: { status: 'quarantined', by: 'adam', at: '2026-01-01T00:00:00.000Z', reason: 'incident' } } }),
);
const MISCONFIGURED = `
policy:
  dir: policies
registry:
  lockFile: airlock.lock.json
servers:
  crm: { transport: stdio, command: node, owner: sales-ops }
  billing:
    transport: stdio
    command: node
    classification: restricted
  ticketing: { transport: stdio, command: node, owner: support-eng }
  ledger: { transport: stdio, command: node, owner: finance-eng }
agents:
  refund-bot:
    servers: [crm, billing, ticketing, ledger]
    autonomy: autonomous
  viewer:
    servers: [crm]
    autonomy: read-only
`;
/** Nothing can change on its own: no model named, a playbook step on an uncertified server, pins not required, a broken policy set. */
const COUPLED = `
policy:
  dir: broken
registry:
  lockFile: airlock.lock.json
  requirePins: false
servers:
  ledger: { transport: stdio, command: node, owner: finance-eng }
agents:
  bookkeeper:
    servers: [ledger]
    autonomy: gated
    playbook:
      - tool: ledger.post_entry
`;
const coupledFile = join(dir, 'coupled.yaml');
writeFileSync(coupledFile, COUPLED);
/** The example configuration, read from another directory, changed by `edit`. */
function exampleVariant(name: string, edit: (yaml: string) => string = (y) => y): string {
  const file = join(dir, name);
  const yaml = readFileSync(join(EXAMPLES, 'airlock.yaml'), 'utf8')
    .replace('dir: policies', `dir: ${join(EXAMPLES, 'policies')}`)
    .replace('lockFile: airlock.lock.json', `lockFile: ${join(EXAMPLES, 'airlock.lock.json')}`)
    .replace(/graph: agents\//g, `graph: ${join(EXAMPLES, 'agents')}/`);
  writeFileSync(file, edit(yaml));
  return file;
}
const badFile = join(dir, 'misconfigured.yaml');
writeFileSync(badFile, MISCONFIGURED);
const brokenFile = join(dir, 'broken-policies.yaml');
writeFileSync(brokenFile, MISCONFIGURED.replace('dir: policies', 'dir: broken'));

describe('governance readiness report', () => {
  test('the example configuration answers the seven questions, linked to real lines', () => {
    const r = buildReadinessReport(loadConfig({ env }));
    assert.deepEqual(
      r.questions.map((q) => q.id),
      ['execution', 'systems', 'identity', 'approvals', 'controls', 'independence', 'dataflow'],
    );
    assert.match(r.policyVersion ?? '', /^[0-9a-f]{16}$/);
    assert.equal(r.ok, true, JSON.stringify(r.gaps, null, 2));
    assert.deepEqual(codes(r), ['dev-issuer']);
    const [execution, systems, identity, approvals, controls] = r.questions;

    assert.match(execution!.answer, /Approved for execution: refund-assistant \(autonomous\)/);
    assert.match(systems!.answer, /billing \(restricted, owner finance-eng\): pinned by airlock-maintainers/);
    assert.match(identity!.answer, /embedded dev issuer/);
    // From the engine's facts: the policies whose conditions name the agent, and the tools it can reach.
    assert.match(
      identity!.answer,
      /refund-assistant \(autonomous\) reaches 10 tools on crm, ticketing, billing, callable for users, service accounts, named by 3 policies \(refund-small, refund-finance-approval, refund-dual-finance-approval\)/,
    );
    assert.match(approvals!.answer, /refund-finance-approval .*one approver from finance \(escalating to finance-leads after 24h\), expiring after 72h/);
    assert.match(approvals!.answer, /refund-dual-finance-approval .*2 distinct approvers from finance/);
    // The policy set in force, counted from the engine; pins are required by default.
    assert.match(controls!.answer, new RegExp(`policy set version ${r.policyVersion} \\(13 policies over 10 declared tools\\), tool definitions must match their pins in \\S*airlock\\.lock\\.json`));
    assert.match(controls!.answer, /SQLite .*audit\.db/);
    assert.match(controls!.answer, /\/metrics \(Prometheus\)/);

    for (const q of r.questions) {
      assert.ok(q.answer.length > 0 && q.links.length > 0, `${q.id} has an answer and links`);
      for (const l of q.links) {
        if (l.line === undefined) {
          // Only a section the file leaves to its defaults (audit, observability) has no line.
          assert.ok(!new RegExp(`^${l.path.split('.')[0]}:`, 'm').test(readFileSync(l.file, 'utf8')), `${q.id}: ${l.path} has a line`);
          continue;
        }
        const text = lineAt(l.file, l.line);
        if (l.file.endsWith('.cedar')) assert.ok(text.includes(`@id("${l.path}")`), `${l.file}:${l.line} is ${l.path}: ${text}`);
        else
          assert.ok(
            l.path.split('.').some((seg) => text.includes(seg)),
            `${l.file}:${l.line} is ${l.path}: ${text}`,
          );
      }
    }
    const autonomy = execution!.links.find((l) => l.path === 'agents.refund-assistant.autonomy')!;
    assert.match(lineAt(autonomy.file, autonomy.line!), /^\s+autonomy:/);
    assert.equal(autonomy.defaulted, undefined);
    const requirePins = controls!.links.find((l) => l.path === 'registry.requirePins')!;
    assert.equal(requirePins.defaulted, true);
    assert.equal(lineAt(requirePins.file, requirePins.line!), 'registry:');
    const pins = systems!.links.find((l) => l.file.endsWith('airlock.lock.json') && l.path === 'servers.billing')!;
    assert.match(lineAt(pins.file, pins.line!), /^\s+"billing": \{/);
    const rule = approvals!.links.find((l) => l.path === 'refund-finance-approval')!;
    assert.ok(rule.file.endsWith('refunds.cedar'));
  });

  test('a deliberately misconfigured setup is flagged with the specific gaps', () => {
    const r = buildReadinessReport(loadConfig({ file: badFile, env: badEnv }));
    assert.equal(r.ok, false);
    assert.deepEqual(codes(r, 'error'), ['agent-server-unavailable', 'autonomous-without-approval', 'server-no-owner', 'server-not-pinned', 'write-tool-ungoverned']);

    const [noOwner] = gapsOf(r, 'server-no-owner');
    assert.match(noOwner!.message, /server billing/);
    assert.equal(lineAt(badFile, noOwner!.link.line!), '  billing:');
    assert.deepEqual(
      gapsOf(r, 'server-not-pinned').map((g) => g.link.path),
      ['servers.ledger'],
    );
    const unavailable = gapsOf(r, 'agent-server-unavailable');
    assert.deepEqual(
      unavailable.map((g) => g.link.path),
      ['agents.refund-bot.servers.2'],
    );
    assert.match(unavailable[0]!.message, /ticketing, which is quarantined/);
    // Only the write tool no policy covers, only for the agent that executes: crm.add_note has a permit,
    // ticketing is quarantined (so its writes are unreachable), and viewer is read-only.
    assert.deepEqual(
      gapsOf(r, 'write-tool-ungoverned').map((g) => g.message.match(/agent (\S+) can call write tool (\S+),/)!.slice(1)),
      [['refund-bot', 'billing.issue_refund']],
    );
    const [autonomous] = gapsOf(r, 'autonomous-without-approval');
    assert.match(autonomous!.message, /refund-bot is autonomous/);
    assert.match(lineAt(badFile, autonomous!.link.line!), /^\s+autonomy: autonomous/);

    const execution = r.questions.find((q) => q.id === 'execution')!;
    assert.match(execution.answer, /Approved for execution: refund-bot \(autonomous\)\. Advisory only \(read-only phase\): viewer\./);
    const systems = r.questions.find((q) => q.id === 'systems')!;
    assert.match(systems.answer, /ledger \(internal, owner finance-eng\): NOT certified/);
    assert.match(systems.answer, /Not callable: ticketing \(quarantined\)/);
  });

  test('a broken policy directory is an error gap located in the policy file, not a crash', () => {
    const r = buildReadinessReport(loadConfig({ file: brokenFile, env: badEnv }));
    assert.equal(r.ok, false);
    assert.equal(r.policyVersion, null);
    const [failed] = gapsOf(r, 'policy-load-failed');
    assert.ok(failed && failed.severity === 'error');
    assert.ok(failed.link.file.endsWith('bad.cedar'), failed.link.file);
    assert.equal(failed.link.line, 3);
    // Every call is denied anyway: no per-tool coverage noise on top of the load failure.
    assert.deepEqual(gapsOf(r, 'write-tool-ungoverned'), []);
    assert.deepEqual(gapsOf(r, 'autonomous-without-approval'), []);
    assert.match(r.questions.find((q) => q.id === 'approvals')!.answer, /policy set is unavailable/);
  });

  test('approval policies limited to another agent do not cover this one', () => {
    const file = exampleVariant('other-agent.yaml', (y) => `${y}  other-bot:\n    servers: [billing]\n    autonomy: autonomous\n`);
    const r = buildReadinessReport(loadConfig({ file, env }));
    const agentsOf = (code: string) => gapsOf(r, code).map((g) => /agent (\S+)/.exec(g.message)![1]);
    assert.deepEqual(agentsOf('write-tool-ungoverned'), ['other-bot']);
    assert.deepEqual(agentsOf('autonomous-without-approval'), ['other-bot']);
  });

  test('independence is computed from models, playbooks, pins and the policy set: yes, partly or no', () => {
    type Facets = Record<'models' | 'workflows' | 'connectors' | 'policies', { independent: boolean; because: string }>;
    const independence = (r: ReadinessReport) => {
      const q = r.questions.find((x) => x.id === 'independence')!;
      const { verdict, facets } = q.details as { verdict: string; facets: Facets };
      return {
        answer: q.answer,
        verdict,
        independent: Object.entries(facets)
          .filter(([, f]) => f.independent)
          .map(([k]) => k),
      };
    };

    const example = independence(buildReadinessReport(loadConfig({ env })));
    assert.equal(example.verdict, 'yes');
    assert.deepEqual(example.independent, ['models', 'workflows', 'connectors', 'policies']);
    assert.match(example.answer, /^Yes\. Models: refund-assistant → embedded, refund-react → embedded, dispute-triage → embedded, each set in config/);

    // Turning pins off couples connectors to agents: the answer, the gap and the controls answer all say so.
    const pinsOff = buildReadinessReport(loadConfig({ file: exampleVariant('pins-off.yaml', (y) => y.replace('registry:\n', 'registry:\n  requirePins: false\n')), env }));
    const partly = independence(pinsOff);
    assert.equal(partly.verdict, 'partly');
    assert.deepEqual(partly.independent, ['models', 'workflows', 'policies']);
    assert.match(partly.answer, /^Partly\. .*Connectors: registry\.requirePins is off/);
    assert.deepEqual(codes(pinsOff), ['dev-issuer', 'pins-not-required']);
    assert.match(pinsOff.questions.find((q) => q.id === 'controls')!.answer, /registry\.requirePins is off/);

    const bad = independence(buildReadinessReport(loadConfig({ file: badFile, env: badEnv })));
    assert.equal(bad.verdict, 'partly');
    assert.deepEqual(bad.independent, ['workflows', 'policies']);
    assert.match(bad.answer, /Models: refund-bot, viewer name no model in config/);
    assert.match(bad.answer, /Connectors: not pinned: ledger\b/);

    const coupled = independence(buildReadinessReport(loadConfig({ file: coupledFile, env: badEnv })));
    assert.equal(coupled.verdict, 'no');
    assert.deepEqual(coupled.independent, []);
    assert.match(coupled.answer, /^No\. /);
    assert.match(coupled.answer, /bookkeeper \(ledger\.post_entry\)/);
    assert.match(coupled.answer, /Policies: the policy set does not load/);
  });

  test('the text format marks gaps and shows file:line links', () => {
    const text = formatReadiness(buildReadinessReport(loadConfig({ file: badFile, env: badEnv })), { cwd: dir });
    assert.match(text, /^NOT READY: 5 error\(s\), 1 warning\(s\)$/m);
    assert.match(text, /^6\. Can models, workflows and connectors each change independently\?$/m);
    assert.match(text, /\[ERROR\] server-no-owner: server billing/);
    assert.match(text, /at misconfigured\.yaml:\d+/);
    assert.match(text, /\[WARN\] {2}dev-issuer/);
  });

  test('`airlock readiness` exits 1 on error gaps and 0 without them', async () => {
    const run = async (args: string[], withEnv: Record<string, string>) => {
      const program = new Command('airlock').option('-c, --config <file>').exitOverride();
      let printed = '';
      registerReadiness(program, () => loadConfig({ file: program.opts<{ config?: string }>().config, env: withEnv }), { out: (s) => void (printed += s) });
      try {
        await program.parseAsync(['readiness', ...args], { from: 'user' });
        return { code: process.exitCode, printed };
      } finally {
        process.exitCode = 0;
      }
    };
    const bad = await run(['--config', badFile, '--json'], badEnv);
    assert.equal(bad.code, 1);
    const report = JSON.parse(bad.printed) as ReadinessReport;
    assert.equal(report.ok, false);
    assert.ok(report.gaps.some((g) => g.code === 'server-no-owner'));

    const good = await run([], env); // the example configuration
    assert.equal(good.code, 0);
    assert.match(good.printed, /^READY: 0 error\(s\), 1 warning\(s\)$/m);
  });
});
