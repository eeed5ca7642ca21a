// 4. Which actions require human approval: the @approval policies (from the engine's facts: permits that ask a
// human, and holds, forbids a human's approval lifts when their conditions match), the gated phase of agents,
// and the write tools an executing agent can reach that nothing governs.
import { formatDuration } from '../../core/duration.js';
import { SCHEMA_FILE } from '../../policy/engine.js';
import { executes, gap, plural, type Model } from '../model.js';
import { QUESTIONS, type ReadinessAnswer, type ReadinessGap } from '../types.js';

export function approvals(m: Model): ReadinessAnswer {
  const { config, engine } = m;
  const gaps: ReadinessGap[] = [];
  const rules = engine instanceof Error ? [] : engine.policies.flatMap((p) => (p.approval ? [{ ...p, approval: p.approval }] : []));

  const agents = Object.entries(config.agents).map(([name, a]) => {
    const writes = m.agentTools(name).filter((t) => t.write);
    const tools = writes.map((t) => ({ action: t.action, destructive: t.destructive, ...m.coverage(name, t.action) }));
    if (executes(a.autonomy) && !(engine instanceof Error)) {
      for (const t of tools) {
        if (t.permits!.length || t.approvals!.length) continue;
        const i = a.servers.indexOf(t.action.split('.')[0]!);
        const why = !t.declared ? `it is not declared in the policy schema (${SCHEMA_FILE})` : `no policy permits it${t.forbids!.length ? ` (only forbids: ${t.forbids!.join(', ')})` : ''}`;
        gaps.push(
          gap(
            'error',
            'write-tool-ungoverned',
            `agent ${name} can call write tool ${t.action}, but ${why}: every call is denied. Add a policy, or leave the tool out of servers.<id>.tools`,
            m.cfg.link(['agents', name, 'servers', i]),
          ),
        );
      }
      if (a.autonomy === 'autonomous' && tools.length > 0 && !tools.some((t) => t.approvals!.length > 0))
        gaps.push(
          gap(
            'error',
            'autonomous-without-approval',
            `agent ${name} is autonomous and no approval policy (@approval) covers any of its ${plural(tools.length, 'write tool')} (${tools.map((t) => t.action).join(', ')}): every write the policies permit runs without a human`,
            m.cfg.link(['agents', name, 'autonomy']),
          ),
        );
    }
    return {
      name,
      phase: a.autonomy,
      phaseApproval: a.autonomy === 'gated' ? { group: a.approvals.group, expiresAfterMs: a.approvals.expiresAfter } : null,
      writeTools: tools,
    };
  });
  const gated = agents.flatMap((x) => (x.phaseApproval ? [{ name: x.name, ...x.phaseApproval }] : []));

  const parts: string[] = [];
  for (const r of rules) {
    const a = r.approval;
    const who =
      `${a.quorum === 1 ? 'one approver' : `${a.quorum} distinct approvers`} from ${a.group}` +
      `${a.escalateTo && a.escalateAfterMs ? ` (escalating to ${a.escalateTo} after ${formatDuration(a.escalateAfterMs)})` : ''}` +
      `${a.expiresAfterMs !== undefined ? `, expiring after ${formatDuration(a.expiresAfterMs)}` : ''}`;
    const hold = r.effect === 'forbid' ? ` (a hold, when its conditions match${r.labels.length ? ` on the run's labels ${r.labels.join(', ')}` : ''})` : '';
    parts.push(`${r.actions.join(', ') || '(no tool)'}${r.agents ? ` by ${r.agents.join(', ')}` : ''} — ${r.id}${r.description ? ` (${r.description})` : ''}${hold}: ${who}`);
  }
  for (const g of gated) parts.push(`every write of ${g.name} (gated phase) needs one approver from ${g.group}, expiring after ${formatDuration(g.expiresAfterMs)}`);
  const answer =
    engine instanceof Error
      ? `The policy set is unavailable, so every tool call is denied. Phase rules: ${gated.map((g) => `${g.name} (gated) sends writes to ${g.group}`).join('; ') || 'none'}.`
      : parts.length
        ? `${parts.join('; ')}.`
        : 'No action requires human approval: no @approval policy and no agent in the gated phase.';
  const links = [...rules.map((r) => m.policyLink(r.id)), ...gated.map((g) => m.cfg.link(['agents', g.name, 'approvals']))];
  return {
    id: 'approvals',
    question: QUESTIONS.approvals,
    answer,
    details: {
      rules: rules.map((r) => ({
        policyId: r.id,
        kind: r.effect === 'forbid' ? 'hold' : 'permit',
        group: r.approval.group,
        quorum: r.approval.quorum,
        ...(r.approval.expiresAfterMs !== undefined ? { expires: formatDuration(r.approval.expiresAfterMs) } : {}),
        ...(r.approval.escalateTo && r.approval.escalateAfterMs ? { escalateTo: r.approval.escalateTo, escalateAfter: formatDuration(r.approval.escalateAfterMs) } : {}),
        actions: r.actions,
        agents: r.agents ?? 'any',
        description: r.description ?? null,
      })),
      agents,
    },
    links,
    gaps,
  };
}
