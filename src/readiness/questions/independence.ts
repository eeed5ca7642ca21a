// 6. Can models, workflows and connectors each change independently? Yes, partly or no, from four facts of
// the configuration and the engine: every agent names its model in config; every playbook step calls a tool
// its agent can reach as certified; connectors are held to their pins (requirePins on, every used server
// pinned); the policy set loads, so each decision records its version.
import { gap, list, type Model } from '../model.js';
import { QUESTIONS, type ReadinessAnswer, type ReadinessGap } from '../types.js';

export type Verdict = 'yes' | 'partly' | 'no';

interface Facet {
  independent: boolean;
  because: string;
}

export function independence(m: Model): ReadinessAnswer {
  const { config, engine } = m;
  const gaps: ReadinessGap[] = [];
  if (!config.registry.requirePins)
    gaps.push(gap('warning', 'pins-not-required', 'registry.requirePins is off: a connector can change (or run unpinned) without anyone re-approving it', m.cfg.link(['registry', 'requirePins'])));
  const agentNames = Object.keys(config.agents);

  const models = Object.entries(config.agents).map(([name, a]) => {
    const p = config.models[a.model];
    // Named in config: the agent's own `model` key, or a route that lists it (or every agent).
    const named = m.cfg.has(['agents', name, 'model']) || config.routing.routes.some((r) => !r.agents || r.agents.includes(name));
    return { agent: name, model: a.model, named, provider: p ? { kind: p.kind, model: p.model, baseUrl: p.baseUrl ?? null } : { kind: 'embedded', model: 'deterministic planner' } };
  });
  const unnamed = models.filter((x) => !x.named).map((x) => x.agent);

  const workflows = Object.entries(config.agents).map(([name, a]) => {
    const reachable = new Set(m.agentTools(name).map((t) => t.action));
    return { agent: name, phase: a.autonomy, playbookSteps: a.playbook.length, maxSteps: a.maxSteps, uncertifiedSteps: [...new Set(a.playbook.map((s) => s.tool).filter((t) => !reachable.has(t)))] };
  });
  const uncertified = workflows.filter((w) => w.uncertifiedSteps.length > 0);
  const withPlaybook = workflows.filter((w) => w.playbookSteps > 0).map((w) => w.agent);

  const used = [...new Set(Object.values(config.agents).flatMap((a) => a.servers))];
  const connectors = Object.keys(config.servers).map((id) => ({ server: id, pinned: !!m.servers.get(id)!.pins, status: m.servers.get(id)!.status }));
  const unpinned = connectors.filter((c) => used.includes(c.server) && c.status !== 'retired' && !c.pinned).map((c) => c.server);
  const version = engine instanceof Error ? 'unavailable' : engine.version;

  const facets: Record<'models' | 'workflows' | 'connectors' | 'policies', Facet> = {
    models: unnamed.length
      ? { independent: false, because: `${list(unnamed)} name no model in config and run on the default (embedded)` }
      : {
          independent: true,
          because: agentNames.length
            ? `${models.map((x) => `${x.agent} → ${x.model}`).join(', ')}, each set in config (agents.<name>.model${config.routing.routes.length ? ', routing.routes' : ''})`
            : 'no agents are configured',
        },
    workflows: uncertified.length
      ? {
          independent: false,
          because: `playbook steps call tools their agent cannot reach as certified, so the workflow waits on a connector change: ${uncertified.map((w) => `${w.agent} (${w.uncertifiedSteps.join(', ')})`).join('; ')}`,
        }
      : {
          independent: true,
          because: `${withPlaybook.length ? `${withPlaybook.length === 1 ? 'the playbook' : 'the playbooks'} of ${list(withPlaybook)} ${withPlaybook.length === 1 ? 'calls' : 'call'} only certified tools of the agent's own servers` : 'no agent has a playbook'}; each run keeps the agent settings it started with`,
        },
    connectors:
      m.lock instanceof Error || !config.registry.requirePins || unpinned.length
        ? {
            independent: false,
            because: [
              ...(m.lock instanceof Error ? ['the lockfile is unreadable'] : []),
              ...(!config.registry.requirePins ? ['registry.requirePins is off, so a changed server is called without re-approval'] : []),
              ...(unpinned.length ? [`not pinned: ${unpinned.join(', ')}`] : []),
            ].join('; '),
          }
        : { independent: true, because: `registry.requirePins is on and every server the agents use is pinned (${list(used)}): a changed server is refused as drift until re-approved` },
    policies:
      engine instanceof Error
        ? { independent: false, because: 'the policy set does not load, so every call is denied until it is fixed' }
        : { independent: true, because: `policy set version ${engine.version} loads on its own, and every decision records the version it used` },
  };
  const independentCount = Object.values(facets).filter((f) => f.independent).length;
  const verdict: Verdict = independentCount === Object.keys(facets).length ? 'yes' : independentCount === 0 ? 'no' : 'partly';
  const answer =
    `${verdict === 'yes' ? 'Yes' : verdict === 'no' ? 'No' : 'Partly'}. ` +
    `Models: ${facets.models.because}. Workflows: ${facets.workflows.because}. Connectors: ${facets.connectors.because}. Policies: ${facets.policies.because}.`;
  const links = [
    ...agentNames.map((n) => m.cfg.link(['agents', n, 'model'])),
    ...Object.keys(config.models).map((x) => m.cfg.link(['models', x])),
    ...uncertified.map((w) => m.cfg.link(['agents', w.agent, 'playbook'])),
    m.cfg.link(['registry', 'lockFile']),
    m.cfg.link(['registry', 'requirePins']),
    m.cfg.link(['policy', 'dir']),
  ];
  return {
    id: 'independence',
    question: QUESTIONS.independence,
    answer,
    details: { verdict, facets, models, workflows, connectors, policyVersion: version },
    links,
    gaps,
  };
}
