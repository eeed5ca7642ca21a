// Readiness question 7, the Rule of Two: which agents can combine untrusted input, sensitive data and acting tools
// (from config and pins), and which policies stop them; an agent that combines all three with nothing stopping it
// is a named error gap.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, ROOT } from '../../src/config/load.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { guardsRuleOfTwo, type Stop } from '../../src/readiness/questions/dataflow.js';
import { buildReadinessReport, type ReadinessReport } from '../../src/readiness/report.js';

const EXAMPLES = join(ROOT, 'examples');
const dir = mkdtempSync(join(tmpdir(), 'airlock-dataflow-'));
const env = { AIRLOCK_DATA_DIR: join(dir, 'data') };
const DATA_FLOW = readFileSync(join(EXAMPLES, 'policies', 'data-flow.cedar'), 'utf8');
const lineAt = (file: string, line: number) => readFileSync(file, 'utf8').split('\n')[line - 1]!;

/** The demo's policies with data-flow.cedar replaced by `dataFlow` (or left out). */
function policies(name: string, dataFlow?: string): string {
  const out = join(dir, name);
  mkdirSync(out);
  for (const f of readdirSync(join(EXAMPLES, 'policies')).filter((x) => x !== 'data-flow.cedar')) copyFileSync(join(EXAMPLES, 'policies', f), join(out, f));
  if (dataFlow) writeFileSync(join(out, 'data-flow.cedar'), dataFlow);
  return out;
}

/** The example configuration, read from another directory, with its policy dir, lockfile and agents changed. */
function variant(name: string, opts: { policyDir?: string; lockFile?: string; edit?: (yaml: string) => string } = {}): ReadinessReport {
  const file = join(dir, `${name}.yaml`);
  const yaml = readFileSync(join(EXAMPLES, 'airlock.yaml'), 'utf8')
    .replace('dir: policies', `dir: ${opts.policyDir ?? join(EXAMPLES, 'policies')}`)
    .replace('lockFile: airlock.lock.json', `lockFile: ${opts.lockFile ?? join(EXAMPLES, 'airlock.lock.json')}`)
    .replace(/graph: agents\//g, `graph: ${join(EXAMPLES, 'agents')}/`);
  writeFileSync(file, (opts.edit ?? ((y) => y))(yaml));
  return buildReadinessReport(loadConfig({ file, env }));
}

interface Row {
  name: string;
  legs: { untrusted: string[]; sensitive: string[]; acts: string[] };
  actsFrom: Record<string, string>;
  combinesAllLegs: boolean;
  acting: { action: string; source: string; stoppedBy: Stop[] }[];
  unstopped: string[];
}
const dataflow = (r: ReadinessReport) => {
  const q = r.questions.find((x) => x.id === 'dataflow')!;
  const d = q.details as { verdict: string; agents: Row[] };
  return { ...q, verdict: d.verdict, agents: d.agents, row: (n: string) => d.agents.find((a) => a.name === n)! };
};
const unguarded = (r: ReadinessReport) => r.gaps.filter((g) => g.code === 'rule-of-two-unguarded').map((g) => /agent (\S+)/.exec(g.message)![1]);
const DEMO_AGENTS = ['refund-assistant', 'refund-react', 'dispute-triage'];
const DEMO_WRITES = ['crm.add_note', 'ticketing.create_ticket', 'ticketing.update_ticket', 'billing.issue_refund'];

/** Agents that lack a leg: no untrusted source, read-only, and one whose only stop is the gated phase. */
const EXTRA_AGENTS = `  helper:
    servers: [crm, billing]
    autonomy: autonomous
  reader:
    servers: [ticketing, billing]
    autonomy: read-only
  drafter:
    servers: [ticketing]
    inputClassification: confidential
    autonomy: gated
    approvals: { group: support-leads }
`;

describe('readiness: the Rule of Two', () => {
  test("the demo: every agent combines all three legs, and data-flow.cedar's rule-of-two holds every act", () => {
    const r = buildReadinessReport(loadConfig({ env }));
    const q = dataflow(r);
    assert.equal(q.verdict, 'yes');
    assert.deepEqual(unguarded(r), []);
    for (const name of DEMO_AGENTS) {
      const row = q.row(name);
      assert.deepEqual(row.legs, { untrusted: ['ticketing.get_ticket'], sensitive: ['crm', 'billing'], acts: DEMO_WRITES });
      assert.deepEqual(row.actsFrom, { crm: 'pins', ticketing: 'pins', billing: 'pins' });
      for (const t of row.acting) assert.deepEqual(t.stoppedBy, [{ kind: 'hold', policyId: 'rule-of-two', group: 'support-leads' }], t.action);
    }
    assert.match(q.answer, /^Yes\. refund-assistant, refund-react, dispute-triage each combine all three \(untrusted from ticketing\.get_ticket; sensitive from crm, billing; acts through /);
    assert.match(q.answer, /every acting tool is stopped by rule-of-two \(hold: approval from support-leads\)/);
    assert.match(q.answer, /acts through crm\.add_note, ticketing\.create_ticket, ticketing\.update_ticket, billing\.issue_refund, as pinned for crm, ticketing, billing\)/);
    const rule = q.links.find((l) => l.path === 'rule-of-two')!;
    assert.ok(rule.file.endsWith('data-flow.cedar'));
    assert.match(lineAt(rule.file, rule.line!), /@id\("rule-of-two"\)/);
    const trust = q.links.find((l) => l.path === 'servers.ticketing.toolTrust.get_ticket')!;
    assert.match(lineAt(trust.file, trust.line!), /toolTrust: \{ get_ticket: untrusted \}/);
  });

  test('only forbids and holds that read `untrusted` and `sensitive` or `level` count as stopping it', () => {
    const engine = PolicyEngine.load(join(EXAMPLES, 'policies'));
    assert.deepEqual(
      engine.policies.filter(guardsRuleOfTwo).map((p) => p.id),
      ['rule-of-two'],
    );
    const noWriteDown = engine.policy('no-write-down')!;
    assert.equal(guardsRuleOfTwo(noWriteDown), false, 'reads only level');
    assert.equal(guardsRuleOfTwo({ ...noWriteDown, labels: ['level', 'untrusted'] }), true);
    assert.equal(guardsRuleOfTwo({ ...noWriteDown, effect: 'permit', labels: ['sensitive', 'untrusted'] }), false);
  });

  test('without a rule-of-two policy: no, naming the agents and their uncovered tools; agents lacking a leg are not named', () => {
    const r = variant('no-rule', { policyDir: policies('no-rule'), edit: (y) => y + EXTRA_AGENTS });
    const q = dataflow(r);
    assert.equal(q.verdict, 'no');
    assert.equal(r.ok, false);
    assert.deepEqual(unguarded(r), DEMO_AGENTS);
    const [gap] = r.gaps.filter((g) => g.code === 'rule-of-two-unguarded');
    assert.equal(gap!.severity, 'error');
    assert.match(gap!.message, new RegExp(`nothing stops ${DEMO_WRITES.join(', ')} without a human: add a hold such as examples/policies/data-flow\\.cedar's rule-of-two`));
    assert.match(lineAt(gap!.link.file, gap!.link.line!), /^\s+servers: \[crm, ticketing, billing\]/);
    assert.match(q.answer, /^No\. refund-assistant, refund-react, dispute-triage each combine all three .*nothing stops crm\.add_note/);

    assert.deepEqual(q.row('helper').legs.untrusted, []);
    assert.equal(q.row('helper').combinesAllLegs, false);
    assert.deepEqual(q.row('reader').legs.acts, [], 'read-only: the control layer denies every write');
    assert.match(q.answer, /Lacking a leg: helper \(no untrusted input\); reader \(no acting tools \(read-only phase\)\)\.$/);
    // Its input is confidential: all three legs, but the gated phase puts a human before every write.
    const drafter = q.row('drafter');
    assert.deepEqual(drafter.legs, { untrusted: ['ticketing.get_ticket'], sensitive: ['input'], acts: ['ticketing.create_ticket', 'ticketing.update_ticket'] });
    assert.deepEqual(drafter.unstopped, []);
    assert.ok(drafter.acting.every((t) => t.stoppedBy.some((s) => s.kind === 'gated-phase')));
    assert.ok(q.links.some((l) => l.path === 'agents.drafter.inputClassification'));
  });

  test('a rule-of-two limited to one agent stops only that agent; one limited to some tools leaves partly', () => {
    const scoped = variant('scoped', {
      policyDir: policies(
        'scoped',
        DATA_FLOW.replace('context.labels.untrusted && context.labels.sensitive', 'context.labels.untrusted && context.labels.sensitive && context.agent.name == "refund-assistant"'),
      ),
    });
    assert.equal(dataflow(scoped).verdict, 'no');
    assert.deepEqual(unguarded(scoped), ['refund-react', 'dispute-triage']);
    assert.deepEqual(dataflow(scoped).row('refund-assistant').unstopped, []);

    const someTools = variant('some-tools', {
      policyDir: policies(
        'some-tools',
        DATA_FLOW.replace(
          /forbid \(principal, action in Airlock::Action::"write", resource\)\nwhen \{ context\.labels\.untrusted/,
          'forbid (principal, action in [Airlock::Action::"billing.issue_refund", Airlock::Action::"crm.add_note"], resource)\nwhen { context.labels.untrusted',
        ),
      ),
    });
    const q = dataflow(someTools);
    assert.equal(q.verdict, 'partly');
    assert.deepEqual(q.row('refund-assistant').unstopped, ['ticketing.create_ticket', 'ticketing.update_ticket']);
    assert.match(q.answer, /^Partly\. .*2 acting tools stopped by rule-of-two .*nothing stops ticketing\.create_ticket, ticketing\.update_ticket/);
  });

  test('an untrusted input and an unpinned server: legs from inputTrust and from the policy schema, said so', () => {
    const lock = JSON.parse(readFileSync(join(EXAMPLES, 'airlock.lock.json'), 'utf8')) as { version: 1; servers: Record<string, unknown> };
    const lockFile = join(dir, 'no-crm.lock.json');
    writeFileSync(lockFile, JSON.stringify({ version: 1, servers: { billing: lock.servers.billing, ticketing: lock.servers.ticketing } }, null, 2));
    const agent = `  intake:\n    servers: [crm]\n    inputTrust: untrusted\n    autonomy: autonomous\n`;
    const pinsOff = (y: string) => y.replace('registry:\n', 'registry:\n  requirePins: false\n') + agent;

    const r = variant('unpinned', { lockFile, policyDir: policies('unpinned'), edit: pinsOff });
    const intake = dataflow(r).row('intake');
    assert.deepEqual(intake.legs, { untrusted: ['input'], sensitive: ['crm'], acts: ['crm.add_note', 'crm.get_account', 'crm.search_accounts'] });
    assert.deepEqual(intake.actsFrom, { crm: 'policy-schema' });
    assert.ok(unguarded(r).includes('intake'));
    assert.match(
      dataflow(r).answer,
      /intake combines all three \(untrusted from input; sensitive from crm; acts through crm\.add_note, crm\.get_account, crm\.search_accounts, every tool the policy schema declares for crm, which is not pinned\)/,
    );
    assert.ok(dataflow(r).links.some((l) => l.path === 'agents.intake.inputTrust'));

    // With pins required (the default), an unpinned server's calls fail closed: that stops it.
    const required = variant('unpinned-required', { lockFile, policyDir: policies('unpinned-required'), edit: (y) => y + agent });
    assert.ok(!unguarded(required).includes('intake'));
    assert.ok(
      dataflow(required)
        .row('intake')
        .acting.every((t) => t.stoppedBy.some((s) => s.kind === 'not-pinned')),
    );
  });
});
