// 3. What identity each agent runs under, and how its authorization is scoped: the token issuer, and per
// agent its servers, tool allowlists, phase, the principal kinds the policy schema admits and the policies
// that name it; per connector, the credentials it is given.
import { gap, list, plural, type Model } from '../model.js';
import { QUESTIONS, type ReadinessAnswer, type ReadinessGap } from '../types.js';

export function identity(m: Model): ReadinessAnswer {
  const { config, engine } = m;
  const gaps: ReadinessGap[] = [];
  const id = config.identity;
  const oidc = id.issuer === 'oidc' ? id.oidc : undefined;
  const issuer = oidc
    ? { kind: 'oidc', issuer: oidc.issuer, audience: oidc.audience, roleMappings: oidc.roleMappings ?? null, serviceSubjects: oidc.serviceSubjects ?? [] }
    : { kind: 'dev', issuer: 'embedded dev issuer (demo users)' };
  if (!oidc) gaps.push(gap('warning', 'dev-issuer', 'identity.issuer is dev: bearer tokens come from the embedded demo issuer, not your identity provider', m.cfg.link(['identity', 'issuer'])));

  const agents = Object.entries(config.agents).map(([name, a]) => {
    const tools = m.agentTools(name);
    // Who may drive the agent's tools at all: the principal kinds the schema declares for them (undeclared tools admit nobody).
    const kinds = engine instanceof Error ? null : new Set(tools.flatMap((t) => engine.toolActions.get(t.action)?.principals ?? []));
    const principals = kinds && (['user', 'service'] as const).filter((k) => kinds.has(k));
    return {
      name,
      servers: a.servers,
      toolAllowlists: Object.fromEntries(a.servers.map((s) => [s, config.servers[s]?.tools ?? 'all pinned tools'])),
      reachableTools: tools.map((t) => t.action),
      principals,
      phase: a.autonomy,
      agentSpecificPolicies: engine instanceof Error ? [] : engine.policies.filter((p) => p.agents?.includes(name)).map((p) => p.id),
    };
  });
  const connectors = Object.entries(config.servers).map(([sid, s]) => ({
    server: sid,
    credentials: s.credentials.map((cr) => ({ from: cr.from, inject: 'env' in cr.inject ? { env: cr.inject.env } : { header: cr.inject.header } })),
    oauth: s.transport === 'http' && s.oauth ? { tokenUrl: s.oauth.tokenUrl, clientId: s.oauth.clientId, resource: s.oauth.resource ?? null, scope: s.oauth.scope ?? null } : null,
  }));

  const services = oidc?.serviceSubjects ?? [];
  const who = oidc
    ? `the OIDC issuer ${oidc.issuer} (audience ${[oidc.audience].flat().join(', ')}; ${services.length ? `service accounts: ${services.join(', ')}` : 'no subject listed as a service account'})`
    : 'the embedded dev issuer';
  const agentLine = (a: (typeof agents)[number]) =>
    `${a.name} (${a.phase}) reaches ${plural(a.reachableTools.length, 'tool')} on ${a.servers.join(', ')}` +
    `${a.servers.some((s) => config.servers[s]?.tools) ? ' (catalog allowlists apply)' : ''}` +
    `${a.principals ? `, callable for ${list(a.principals.map((p) => (p === 'user' ? 'users' : 'service accounts')))}` : ''}` +
    `, ${a.agentSpecificPolicies.length ? `named by ${plural(a.agentSpecificPolicies.length, 'policy', 'policies')} (${a.agentSpecificPolicies.join(', ')})` : 'named by no policy'}`;
  const credentialed = connectors.filter((c) => c.credentials.length || c.oauth);
  const answer =
    `Each run acts for the verified caller; bearer tokens come from ${who}. ` +
    (agents.length ? `${agents.map(agentLine).join('; ')}. ` : 'No agents are configured. ') +
    (credentialed.length
      ? `Connectors with their own credentials: ${credentialed.map((c) => `${c.server} (${[...c.credentials.map((cr) => ('env' in cr.inject ? `env ${cr.inject.env}` : `header ${cr.inject.header}`)), ...(c.oauth ? ['OAuth client credentials'] : [])].join(', ')})`).join('; ')}.`
      : 'No connector is given credentials.');
  const links = [
    m.cfg.link(['identity', 'issuer']),
    ...(oidc ? [m.cfg.link(['identity', 'oidc'])] : []),
    ...Object.keys(config.agents).map((n) => m.cfg.link(['agents', n, 'servers'])),
    ...Object.entries(config.servers).flatMap(([sid, s]) => [
      ...(s.credentials.length ? [m.cfg.link(['servers', sid, 'credentials'])] : []),
      ...(s.transport === 'http' && s.oauth ? [m.cfg.link(['servers', sid, 'oauth'])] : []),
    ]),
  ];
  return { id: 'identity', question: QUESTIONS.identity, answer, details: { issuer, agents, connectors }, links, gaps };
}
