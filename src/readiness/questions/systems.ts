// 2. Which systems are exposed through MCP, and who certified each server: the catalog, the pins, the runtime status.
import { basename } from 'node:path';
import { gap, plural, type Model } from '../model.js';
import { QUESTIONS, type ReadinessAnswer, type ReadinessGap } from '../types.js';

export function systems(m: Model): ReadinessAnswer {
  const gaps: ReadinessGap[] = [];
  const { config } = m;
  if (m.lock instanceof Error)
    gaps.push(gap('error', 'lockfile-unreadable', `the registry lockfile cannot be used, so every server fails closed: ${m.lock.message}`, m.cfg.link(['registry', 'lockFile'])));
  if (m.status instanceof Error)
    gaps.push(gap('error', 'status-unreadable', `the registry status file cannot be used, so every server is refused: ${m.status.message}`, m.statusLoc.link(['servers'])));

  const rows = Object.entries(config.servers).map(([id, s]) => {
    const v = m.servers.get(id)!;
    const here = m.cfg.link(['servers', id]);
    if (v.status !== 'retired') {
      if (!s.owner) gaps.push(gap(v.status === 'approved' ? 'error' : 'warning', 'server-no-owner', `server ${id} (${v.status}) has no owner: no team is accountable for it`, here));
      if (!v.pins && !(m.lock instanceof Error)) {
        const consequence = config.registry.requirePins ? 'its calls fail closed' : 'its tools are called without review (registry.requirePins is off)';
        gaps.push(
          v.status === 'approved'
            ? gap('error', 'server-not-pinned', `server ${id} is approved but was never certified: no pins in the lockfile, so ${consequence}. Run \`airlock registry pin ${id}\``, here)
            : gap('warning', 'server-not-pinned', `server ${id} (${v.status}) has no pins in the lockfile; pin it before approving it`, here),
        );
      }
      if (v.pins?.override)
        gaps.push(
          gap(
            'warning',
            'server-findings-overridden',
            `server ${id} was pinned by ${v.pins.override.by} over ${plural(v.pins.override.findings.length, 'scanner finding')}: ${v.pins.override.reason}`,
            m.lockLoc.link(['servers', id, 'override']),
          ),
        );
    }
    return {
      id,
      transport: s.transport,
      endpoint: s.transport === 'http' ? s.url : `stdio: ${basename(s.command)}`,
      classification: s.classification,
      owner: s.owner ?? null,
      status: v.status,
      catalogStatus: s.status,
      statusChange: v.statusChange,
      certifiedBy: v.pins?.pinnedBy ?? null,
      certifiedAt: v.pins?.pinnedAt ?? null,
      findingsOverride: v.pins?.override ?? null,
      allowedTools: s.tools ?? null,
      tools: v.tools,
      agents: Object.entries(config.agents)
        .filter(([, a]) => a.servers.includes(id))
        .map(([n]) => n),
    };
  });
  const approved = rows.filter((r) => r.status === 'approved');
  const cert = (r: (typeof rows)[number]) =>
    `${r.id} (${r.classification}, owner ${r.owner ?? 'NONE'}): ${r.certifiedBy ? `pinned by ${r.certifiedBy} at ${r.certifiedAt}` : 'NOT certified'}` +
    (r.statusChange?.status === 'approved' ? `, re-approved by ${r.statusChange.by} at ${r.statusChange.at}` : '');
  const answer =
    rows.length === 0
      ? 'No MCP servers are in the catalog.'
      : `${plural(rows.length, 'MCP server')} in the catalog, ${approved.length} approved and callable. ` +
        `${approved.map(cert).join('; ')}.` +
        (rows.length > approved.length
          ? ` Not callable: ${rows
              .filter((r) => r.status !== 'approved')
              .map((r) => `${r.id} (${r.status})`)
              .join(', ')}.`
          : '');
  const links = [
    ...Object.keys(config.servers).map((id) => m.cfg.link(['servers', id])),
    ...Object.keys(config.servers)
      .filter((id) => m.servers.get(id)!.pins)
      .map((id) => m.lockLoc.link(['servers', id])),
    ...Object.keys(config.servers)
      .filter((id) => m.servers.get(id)!.statusChange)
      .map((id) => m.statusLoc.link(['servers', id])),
  ];
  return { id: 'systems', question: QUESTIONS.systems, answer, details: { lockFile: config.registry.lockFile, statusFile: m.statusLoc.file, servers: rows }, links, gaps };
}
