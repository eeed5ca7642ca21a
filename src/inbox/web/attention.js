// For operators: runs that need a person. Runs that ended half done (reconciliation) and runs waiting for an answer.
import { api, html, useLive, when } from './lib.js';
import { ErrorNote } from './ui.js';

async function load() {
  const list = (status) => api('GET', `/v1/runs?status=${status}&limit=50`).then((r) => r.runs);
  const [waiting, failed, rejected, cancelled] = await Promise.all(['awaiting_input', 'failed', 'rejected', 'cancelled'].map(list));
  // The reconciliation record is in the run's view, not in visibility: read the views of runs that ended without completing.
  const views = await Promise.all([...failed, ...rejected, ...cancelled].map((r) => api('GET', `/v1/runs/${encodeURIComponent(r.runId)}`).catch(() => undefined)));
  const inputs = await Promise.all(waiting.map((r) => api('GET', `/v1/runs/${encodeURIComponent(r.runId)}`).catch(() => undefined)));
  return { reconcile: views.filter((v) => v?.reconciliation), waiting: inputs.filter(Boolean) };
}

export function AttentionPage() {
  const { data, error } = useLive(load, [], 10_000);
  return html`<section>
    <h1 tabindex="-1">Needs attention</h1>
    <${ErrorNote} error=${error} />
    <h2>Runs to reconcile</h2>
    <p class="muted">These runs ended without completing after they changed a business system. Check the changes that ran; undo them or finish the calls that did not run, by hand.</p>
    ${
      data
        ? data.reconcile.length
          ? html`<ul class="rows" data-testid="reconcile">
              ${data.reconcile.map(
                (v) =>
                  html`<li key=${v.runId}>
                    <a href=${`#/runs/${encodeURIComponent(v.runId)}`}><code>${v.runId}</code></a> ${v.agent} for ${v.requester} (${v.status}): ${v.reconciliation.reason} —
                    ${v.reconciliation.done.length} change(s) ran: ${v.reconciliation.done.map((d) => d.tool).join(', ')}; ${v.reconciliation.notDone.length} did not.
                  </li>`,
              )}
            </ul>`
          : html`<p>Nothing to reconcile.</p>`
        : null
    }
    <h2>Runs waiting for an answer</h2>
    <p class="muted">The agent asked a question. The requester (or a group the agent names) answers on the run page.</p>
    ${
      data
        ? data.waiting.length
          ? html`<ul class="rows" data-testid="awaiting-input">
              ${data.waiting.map(
                (v) =>
                  html`<li key=${v.runId}>
                    <a href=${`#/runs/${encodeURIComponent(v.runId)}`}><code>${v.runId}</code></a> ${v.agent} for ${v.requester}: ${v.waitingFor ?? 'waiting for input'}
                    ${(v.pendingInputs ?? []).map((q) => html` <span class="muted">(asked ${when(q.askedAt)}, answer: ${[q.requester, ...q.groups].join(', ')})</span>`)}
                  </li>`,
              )}
            </ul>`
          : html`<p>No run waits for an answer.</p>`
        : null
    }
  </section>`;
}
