// The landing page: what waits for the signed-in approver (exactly GET /v1/approvals), and a requester's own runs.
import { api, hasRole, html, me, when } from './lib.js';
import { ApprovalSummary, Badge, ErrorNote } from './ui.js';
import { useLive } from './lib.js';

async function loadPending() {
  const [{ approvals }, runs] = await Promise.all([
    api('GET', '/v1/approvals?status=pending'),
    // The agent of each waiting run (approvals name the run, not the agent).
    api('GET', '/v1/runs?status=awaiting_approval&limit=500').catch(() => ({ runs: [] })),
  ]);
  const agents = new Map(runs.runs.map((r) => [r.runId, r.agent]));
  return approvals.map((a) => ({ a, agent: agents.get(a.runId) }));
}

export function Pending() {
  const approver = hasRole('approver', 'operator', 'admin');
  return html`<section>
    <h1 tabindex="-1">${approver ? 'Waiting for your decision' : 'Your runs'}</h1>
    ${approver ? html`<${PendingList} />` : null} ${hasRole('requester') ? html`<${MyRuns} />` : null}
  </section>`;
}

function PendingList() {
  const { data, error } = useLive(loadPending, []);
  if (!data) return html`<${ErrorNote} error=${error} />${error ? null : html`<p aria-busy="true">Loading…</p>`}`;
  return html`<${ErrorNote} error=${error} />
    <p class="count" aria-live="polite">${data.length === 0 ? 'Nothing waits for you.' : `${data.length} approval${data.length > 1 ? 's' : ''} waiting`}</p>
    <ul class="cards" data-testid="pending-list">
      ${data.map(
        ({ a, agent }) =>
          html`<li class="card" key=${a.approvalId} data-approval=${a.approvalId}>
            <${ApprovalSummary} a=${a} agent=${agent} />
            <p class="actions"><a class="button" href=${`#/approvals/${encodeURIComponent(a.approvalId)}`}>Review ${a.tool}</a> <a href=${`#/runs/${encodeURIComponent(a.runId)}`}>Run</a></p>
          </li>`,
      )}
    </ul>`;
}

function MyRuns() {
  const { data, error } = useLive(() => api('GET', `/v1/runs?requester=${encodeURIComponent(me())}&limit=50`), []);
  return html`<h2>Runs you started</h2>
    <${ErrorNote} error=${error} />
    ${
      data
        ? data.runs.length === 0
          ? html`<p>No runs yet. <a href="#/start">Start one</a>.</p>`
          : html`<ul class="rows" data-testid="my-runs">
              ${data.runs.map(
                (r) =>
                  html`<li key=${r.runId}>
                    <a href=${`#/runs/${encodeURIComponent(r.runId)}`}><code>${r.runId}</code></a> ${r.agent} <${Badge} status=${r.status} /> <span class="muted">${when(r.startedAt)}</span>
                  </li>`,
              )}
            </ul>`
        : null
    }`;
}
