// 7. Data flow: which agents can combine all three legs of the Rule of Two (untrusted input, sensitive data, tools
// that change state or send outward), and what stops them.
//
// Legs, per agent, over its approved servers (src/core/labels.ts names them):
//   untrusted  `input` when agents.<name>.inputTrust is untrusted; each server whose trust is untrusted (or, where
//              toolTrust says otherwise for some tools, its untrusted tools as `server.tool`)
//   sensitive  `input` when agents.<name>.inputClassification is confidential or above; each such server
//   acts       the agent's tools that change state: from the pins' annotations (classifyTool); for a server that is
//              not pinned, every tool the policy schema declares for it (without annotations MCP presumes a write).
//              None in the read-only phase: the control layer denies every tool that is not read-only.
// An acting tool of an agent that combines all three is stopped by: a forbid or hold (a forbid with @approval) that
// reads the labels `untrusted` and `sensitive` or `level` and applies to the agent and the tool; the gated phase (a
// human approves every write); permits that all carry @approval; no permit at all (every call is denied); or, for a
// server that is not pinned, registry.requirePins (its calls fail closed).
import { combinesAllLegs, isSensitive, trustOf, type RuleOfTwoLegs } from '../../core/labels.js';
import { catalogAllows } from '../../core/registry.js';
import type { PolicyFacts } from '../../policy/types.js';
import { executes, gap, list, plural, type Model } from '../model.js';
import { QUESTIONS, type ReadinessAnswer, type ReadinessGap, type ReadinessLink } from '../types.js';
import type { Verdict } from './independence.js';

/** Where an agent's acting tools on one server were read from. */
export type ToolSource = 'pins' | 'policy-schema' | 'unknown';

export type Stop =
  | { kind: 'forbid' | 'hold'; policyId: string; group?: string }
  | { kind: 'gated-phase'; group: string }
  | { kind: 'approval-permits'; policyIds: string[] }
  | { kind: 'not-permitted' }
  | { kind: 'not-pinned' }
  | { kind: 'policy-set-unavailable' };

export const RULE_OF_TWO_FIX =
  "add a hold such as examples/policies/data-flow.cedar's rule-of-two (forbid writes when context.labels.untrusted && context.labels.sensitive, with @approval), or put the agent in the gated phase";

/** A forbid (or hold) that stops a run holding untrusted content and sensitive data: it reads both labels. */
export const guardsRuleOfTwo = (p: PolicyFacts): boolean => p.effect === 'forbid' && p.labels.includes('untrusted') && (p.labels.includes('sensitive') || p.labels.includes('level'));

export function dataflow(m: Model): ReadinessAnswer {
  const { config, engine } = m;
  const gaps: ReadinessGap[] = [];
  const guards = engine instanceof Error ? [] : engine.policies.filter(guardsRuleOfTwo);
  const tools = new Map(Object.keys(config.servers).map((id) => [id, serverTools(m, id)]));

  const agents = Object.entries(config.agents).map(([name, a]) => {
    const servers = a.servers.filter((id) => m.servers.get(id)?.status === 'approved');
    const legs: RuleOfTwoLegs = {
      untrusted: [...(a.inputTrust === 'untrusted' ? ['input'] : []), ...servers.flatMap((id) => untrustedSources(m, id, tools.get(id)!.names))],
      sensitive: [...(isSensitive(a.inputClassification) ? ['input'] : []), ...servers.filter((id) => isSensitive(config.servers[id]!.classification))],
      acts: executes(a.autonomy) ? servers.flatMap((id) => tools.get(id)!.acting.map((t) => `${id}.${t}`)) : [],
    };
    const actsFrom = Object.fromEntries(servers.map((id) => [id, tools.get(id)!.source]));
    const combines = combinesAllLegs(legs);
    const acting = combines
      ? legs.acts.map((action) => {
          const stops: Stop[] =
            engine instanceof Error
              ? [{ kind: 'policy-set-unavailable' }]
              : [
                  ...guards
                    .filter((p) => (!p.agents || p.agents.includes(name)) && (p.anyAction || p.actions.includes(action)))
                    .map((p): Stop => (p.approval ? { kind: 'hold', policyId: p.id, group: p.approval.group } : { kind: 'forbid', policyId: p.id })),
                  ...(a.autonomy === 'gated' ? [{ kind: 'gated-phase' as const, group: a.approvals.group }] : []),
                  ...permitStops(m.coverage(name, action)),
                  ...(actsFrom[action.split('.')[0]!] === 'policy-schema' && config.registry.requirePins ? [{ kind: 'not-pinned' as const }] : []),
                ];
          return { action, source: actsFrom[action.split('.')[0]!]!, stoppedBy: stops };
        })
      : [];
    const unstopped = acting.filter((t) => t.stoppedBy.length === 0).map((t) => t.action);
    if (unstopped.length)
      gaps.push(
        gap(
          'error',
          'rule-of-two-unguarded',
          `agent ${name} can take in untrusted content (${legs.untrusted.join(', ')}) and sensitive data (${legs.sensitive.join(', ')}), and nothing stops ${unstopped.join(', ')} without a human: ${RULE_OF_TWO_FIX}`,
          m.cfg.link(['agents', name, 'servers']),
        ),
      );
    return { name, phase: a.autonomy, legs, actsFrom, combinesAllLegs: combines, acting, unstopped };
  });

  const combining = agents.filter((x) => x.combinesAllLegs);
  const open = combining.filter((x) => x.unstopped.length === x.acting.length);
  const verdict: Verdict = combining.every((x) => x.unstopped.length === 0) ? 'yes' : open.length ? 'no' : 'partly';
  const answer = `${verdict === 'yes' ? 'Yes' : verdict === 'no' ? 'No' : 'Partly'}. ${describe(combining, agents, engine instanceof Error)}`;

  const links = dedupe([
    ...agents.flatMap((x) => legLinks(m, x.name, x.legs, x.combinesAllLegs ? x.actsFrom : {})),
    ...combining.flatMap((x) =>
      x.acting.flatMap((t) =>
        t.stoppedBy.flatMap((s) => (s.kind === 'forbid' || s.kind === 'hold' ? [m.policyLink(s.policyId)] : s.kind === 'gated-phase' ? [m.cfg.link(['agents', x.name, 'autonomy'])] : [])),
      ),
    ),
  ]);
  return {
    id: 'dataflow',
    question: QUESTIONS.dataflow,
    answer,
    details: { verdict, guards: guards.map((p) => ({ policyId: p.id, kind: p.approval ? 'hold' : 'forbid', labels: p.labels, agents: p.agents ?? 'any' })), agents },
    links: links.length ? links : [m.cfg.link(['agents'])],
    gaps,
  };
}

type AgentRow = { name: string; phase: string; legs: RuleOfTwoLegs; acting: { action: string; source: ToolSource; stoppedBy: Stop[] }[]; unstopped: string[] };

function describe(combining: AgentRow[], agents: AgentRow[], unavailable: boolean): string {
  const missing = agents
    .filter((x) => !combining.includes(x))
    .map((x) => {
      const lacks = [
        ...(x.legs.untrusted.length ? [] : ['untrusted input']),
        ...(x.legs.sensitive.length ? [] : ['sensitive data']),
        ...(x.legs.acts.length ? [] : [x.phase === 'read-only' ? 'acting tools (read-only phase)' : 'acting tools']),
      ];
      return `${x.name} (no ${lacks.join(', no ')})`;
    });
  const lacking = missing.length ? `Lacking a leg: ${missing.join('; ')}.` : '';
  if (!combining.length) return `${agents.length ? 'No agent combines' : 'No agents are configured, so none combines'} untrusted input, sensitive data and acting tools. ${lacking}`.trim();
  // Agents with the same legs and the same stops (the demo's three refund agents) share one sentence.
  const said = new Map<string, string[]>();
  for (const x of combining) {
    const legs = `untrusted from ${x.legs.untrusted.join(', ')}; sensitive from ${x.legs.sensitive.join(', ')}; acts through ${x.legs.acts.join(', ')}, ${sourcesOf(x)}`;
    const stopped = x.acting.filter((t) => t.stoppedBy.length > 0);
    const by = [...new Set(stopped.flatMap((t) => t.stoppedBy.map(stopText)))];
    const stopPart = stopped.length ? `${stopped.length === x.acting.length ? 'every acting tool is stopped' : `${plural(stopped.length, 'acting tool')} stopped`} by ${by.join(', ')}` : '';
    const openPart = x.unstopped.length ? `nothing stops ${x.unstopped.join(', ')}: ${RULE_OF_TWO_FIX}` : '';
    const text = unavailable ? `(${legs}), but the policy set does not load, so every call is denied` : `(${legs}); ${[stopPart, openPart].filter(Boolean).join('; ')}`;
    said.set(text, [...(said.get(text) ?? []), x.name]);
  }
  const parts = [...said].map(([text, names]) => `${names.join(', ')} ${names.length > 1 ? 'each combine' : 'combines'} all three ${text}`);
  return `${parts.join('. ')}. ${lacking}`.trim();
}

function stopText(s: Stop): string {
  switch (s.kind) {
    case 'forbid':
      return `${s.policyId} (forbid)`;
    case 'hold':
      return `${s.policyId} (hold: approval from ${s.group})`;
    case 'gated-phase':
      return `the gated phase (approval from ${s.group})`;
    case 'approval-permits':
      return `approval on every permit (${s.policyIds.join(', ')})`;
    case 'not-permitted':
      return 'no permit (always denied)';
    case 'not-pinned':
      return 'its server not being pinned (registry.requirePins: its calls fail closed)';
    case 'policy-set-unavailable':
      return 'the policy set not loading';
  }
}

function sourcesOf(x: AgentRow): string {
  const by = (src: ToolSource) => [...new Set(x.acting.filter((t) => t.source === src).map((t) => t.action.split('.')[0]!))];
  const pinned = by('pins');
  const schema = by('policy-schema');
  return [
    ...(pinned.length ? [`as pinned for ${list(pinned)}`] : []),
    ...(schema.length ? [`every tool the policy schema declares for ${list(schema)}, which ${schema.length === 1 ? 'is' : 'are'} not pinned`] : []),
  ].join(' and ');
}

/** Stops that follow from the permits alone: none permits the tool (always denied), or all that do need approval. */
function permitStops(c: ReturnType<Model['coverage']>): Stop[] {
  if (!c) return [];
  if (!c.declared || (!c.permits.length && !c.approvals.length)) return [{ kind: 'not-permitted' }];
  return c.permits.length ? [] : [{ kind: 'approval-permits', policyIds: c.approvals }];
}

/** The tools of a server the readiness report knows about, which of them act, and where that came from. */
function serverTools(m: Model, id: string): { names: string[] | null; acting: string[]; source: ToolSource } {
  const v = m.servers.get(id)!;
  if (v.tools) return { names: v.tools.map((t) => t.tool), acting: v.tools.filter((t) => t.write).map((t) => t.tool), source: 'pins' };
  if (m.engine instanceof Error) return { names: null, acting: [], source: 'unknown' };
  const allowed = m.config.servers[id]!.tools;
  const names = [...m.engine.toolActions.keys()]
    .filter((a) => a.startsWith(`${id}.`))
    .map((a) => a.slice(id.length + 1))
    .filter((t) => catalogAllows(allowed, t));
  return { names, acting: names, source: 'policy-schema' };
}

/** `server` when the whole server is untrusted, else its untrusted tools as `server.tool`. */
function untrustedSources(m: Model, id: string, names: string[] | null): string[] {
  const s = m.config.servers[id]!;
  const known = names?.length ? names : Object.keys(s.toolTrust ?? {}).filter((t) => catalogAllows(s.tools, t));
  const bad = known.filter((t) => trustOf(s, t) === 'untrusted');
  if (s.trust === 'untrusted' && (!names?.length || bad.length === known.length)) return [id];
  return bad.map((t) => `${id}.${t}`);
}

/** The config (and pins) behind an agent's legs; the acting tools' pins only for agents that combine all three. */
function legLinks(m: Model, agent: string, legs: RuleOfTwoLegs, actsFrom: Record<string, ToolSource>): ReadinessLink[] {
  return [
    ...legs.untrusted.map((u) => {
      const [server, tool] = u.split('.');
      return u === 'input' ? m.cfg.link(['agents', agent, 'inputTrust']) : tool ? m.cfg.link(['servers', server!, 'toolTrust', tool]) : m.cfg.link(['servers', server!, 'trust']);
    }),
    ...legs.sensitive.map((s) => (s === 'input' ? m.cfg.link(['agents', agent, 'inputClassification']) : m.cfg.link(['servers', s, 'classification']))),
    ...legs.acts.flatMap((a) => {
      const [server, tool] = a.split('.') as [string, string];
      return actsFrom[server] === 'pins' ? [m.lockLoc.link(['servers', server, 'tools', tool])] : [];
    }),
  ];
}

function dedupe(links: ReadinessLink[]): ReadinessLink[] {
  const seen = new Set<string>();
  return links.filter((l) => !seen.has(`${l.file}#${l.path}`) && seen.add(`${l.file}#${l.path}`));
}
