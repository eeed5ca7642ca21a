// 1. Which agents (workflows) are approved for execution, and which are advisory only: their autonomy phase.
import type { AutonomyPhase } from '../../core/types.js';
import { executes, gap, list, type Model } from '../model.js';
import { QUESTIONS, type ReadinessAnswer, type ReadinessGap } from '../types.js';

const PHASE_MEANING: Record<AutonomyPhase, string> = {
  'read-only': 'advisory only: the control layer denies every tool that is not read-only, so it can read and propose but never change a system',
  gated: 'approved for execution: it may call write tools, but every write the policies allow also waits for a member of its approvals.group',
  autonomous: 'approved for execution: the Cedar policies alone decide each write, including which ones need a human',
};

export function execution(m: Model): ReadinessAnswer {
  const gaps: ReadinessGap[] = [];
  const agents = Object.entries(m.config.agents).map(([name, a]) => {
    a.servers.forEach((s, i) => {
      const st = m.servers.get(s)!.status;
      if (st !== 'approved') gaps.push(gap('error', 'agent-server-unavailable', `agent ${name} uses server ${s}, which is ${st}: its tools are refused`, m.cfg.link(['agents', name, 'servers', i])));
    });
    const tools = m.agentTools(name);
    return {
      name,
      phase: a.autonomy,
      execution: executes(a.autonomy) ? 'approved' : 'advisory',
      why: `${a.autonomy}: ${PHASE_MEANING[a.autonomy]}`,
      servers: a.servers,
      writeTools: tools.filter((t) => t.write).map((t) => t.action),
      readTools: tools.filter((t) => !t.write).map((t) => t.action),
      maxSteps: a.maxSteps,
    };
  });
  const approved = agents.filter((a) => a.execution === 'approved');
  const advisory = agents.filter((a) => a.execution === 'advisory');
  const answer =
    agents.length === 0
      ? 'No agents are configured.'
      : `Approved for execution: ${approved.length ? approved.map((a) => `${a.name} (${a.phase})`).join(', ') : 'none'}. ` +
        `Advisory only (read-only phase): ${list(advisory.map((a) => a.name))}. The phase is set per agent by agents.<name>.autonomy.`;
  return {
    id: 'execution',
    question: QUESTIONS.execution,
    answer,
    details: { agents },
    links: Object.keys(m.config.agents).map((n) => m.cfg.link(['agents', n, 'autonomy'])),
    gaps,
  };
}
