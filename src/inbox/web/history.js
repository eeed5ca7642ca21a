// What this approver decided, and what became of the runs; expired approvals of their groups as well.
import { api, html, me, useLive, when } from './lib.js';
import { Badge, ErrorNote } from './ui.js';

async function load() {
  const statuses = ['approved', 'rejected', 'expired', 'superseded'];
  const [lists, runs] = await Promise.all([
    Promise.all(statuses.map((s) => api('GET', `/v1/approvals?status=${s}&limit=200`).then((r) => r.approvals))),
    api('GET', '/v1/runs?limit=500').catch(() => ({ runs: [] })),
  ]);
  const status = new Map(runs.runs.map((r) => [r.runId, r.status]));
  const all = lists.flat().map((a) => ({ a, runStatus: status.get(a.runId) }));
  const mine = all.filter(({ a }) => a.votes.some((v) => v.by === me()));
  const expired = all.filter(({ a }) => a.status === 'expired');
  const at = ({ a }) => a.decidedAt ?? a.expiresAt;
  const byTime = (x, y) => at(y).localeCompare(at(x));
  return { mine: mine.sort(byTime), expired: expired.sort(byTime) };
}

const Row = ({ a, runStatus }) => {
  const vote = a.votes.find((v) => v.by === me());
  return html`<li key=${a.approvalId}>
    <a href=${`#/approvals/${encodeURIComponent(a.approvalId)}`}>${a.tool}</a>
    ${typeof a.args.amount === 'number' ? html` <strong>${a.args.amount} ${a.args.currency ?? ''}</strong>` : null}
    ${vote ? html` · you ${vote.decision === 'approve' ? 'approved' : 'rejected'}` : null} · approval <${Badge} status=${a.status} /> · run
    <a href=${`#/runs/${encodeURIComponent(a.runId)}`}>${runStatus ? html`<${Badge} status=${runStatus} />` : a.runId}</a>
    <span class="muted">${when(a.decidedAt ?? a.expiresAt)}</span>
  </li>`;
};

export function HistoryPage() {
  const { data, error } = useLive(load, [], 5_000);
  return html`<section>
    <h1 tabindex="-1">History</h1>
    <${ErrorNote} error=${error} />
    <h2>Your decisions</h2>
    ${
      data
        ? data.mine.length
          ? html`<ul class="rows" data-testid="history-mine">
              ${data.mine.map((x) => html`<${Row} ...${x} />`)}
            </ul>`
          : html`<p>You have not decided anything yet.</p>`
        : null
    }
    <h2>Expired without a decision</h2>
    ${
      data
        ? data.expired.length
          ? html`<ul class="rows" data-testid="history-expired">
              ${data.expired.map((x) => html`<${Row} ...${x} />`)}
            </ul>`
          : html`<p>None.</p>`
        : null
    }
  </section>`;
}
