// A run: what it was asked, each step with its policy decision, approvals and votes, questions, the result,
// what needs reconciling, the audit trail (operators) and a link to the workflow in the Temporal UI.
import { api, hasRole, html, me, useLive, useState, when } from './lib.js';
import { Args, Badge, ErrorNote, Json, Quorum } from './ui.js';

const OPEN = ['running', 'awaiting_approval', 'awaiting_input'];

// A run's input never changes: read once per run.
const inputs = new Map();
const inputOf = (runId) => {
  if (!inputs.has(runId))
    inputs.set(
      runId,
      api('GET', `/inbox/api/runs/${encodeURIComponent(runId)}/input`).then(
        (r) => r.input,
        () => (inputs.delete(runId), undefined),
      ),
    );
  return inputs.get(runId);
};

async function load(runId) {
  const [view, input, audit] = await Promise.all([
    api('GET', `/v1/runs/${encodeURIComponent(runId)}`),
    inputOf(runId),
    hasRole('operator', 'admin') ? api('GET', `/v1/runs/${encodeURIComponent(runId)}/audit`).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  return { view, input, audit };
}

export function RunPage({ runId, settings }) {
  const { data, error, reload } = useLive(() => load(runId), [runId]);
  const [flash, setFlash] = useState(undefined);
  if (!data)
    return html`<section>
      <h1 tabindex="-1">Run</h1>
      <${ErrorNote} error=${error} />
    </section>`;
  const { view, input, audit } = data;
  const temporal = settings?.temporalUi ? `${settings.temporalUi}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(view.runId)}` : undefined;
  const mayCancel = OPEN.includes(view.status) && (view.requester === me() || hasRole('operator', 'admin'));
  const cancel = async () => {
    try {
      await api('POST', `/v1/runs/${encodeURIComponent(view.runId)}/cancel`, {});
      setFlash({ ok: 'Cancelling the run.' });
    } catch (err) {
      setFlash({ error: err });
    }
    void reload();
  };
  return html`<section>
    <h1 tabindex="-1">${view.agent} <${Badge} status=${view.status} /></h1>
    <p class="muted">
      Run <code>${view.runId}</code> for <strong>${view.requester}</strong>${view.identity?.onBehalfOf ? html` on behalf of <strong>${view.identity.onBehalfOf}</strong>` : null}
      ${temporal ? html` · <a href=${temporal} target="_blank" rel="noopener noreferrer">Open in the Temporal UI</a>` : null}
    </p>
    ${view.labels ? html`<${Labels} l=${view.labels} />` : null}
    <${ErrorNote} error=${error} />
    ${view.waitingFor ? html`<p class="notice" data-testid="waiting">${view.waitingFor}</p>` : null} ${flash?.ok ? html`<p class="ok" role="status">${flash.ok}</p>` : null}
    <${ErrorNote} error=${flash?.error} />
    ${mayCancel ? html`<p><button type="button" class="secondary" onClick=${cancel}>Cancel this run</button></p>` : null}
    ${
      input
        ? html`<h2>Input</h2>
            <div class="card" data-testid="input"><${Args} args=${input} /></div>`
        : null
    }
    ${view.reconciliation ? html`<${Reconcile} r=${view.reconciliation} />` : null} ${view.pendingInputs?.length ? html`<${Questions} view=${view} onDone=${reload} />` : null}
    ${
      view.pendingApprovals.length
        ? html`<h2>Waiting for approval</h2>
            <ul class="rows">
              ${view.pendingApprovals.map(
                (a) => html`<li key=${a.approvalId}><a href=${`#/approvals/${encodeURIComponent(a.approvalId)}`}>${a.tool}</a> needs ${a.requiredGroup} · <${Quorum} a=${a} /></li>`,
              )}
            </ul>`
        : null
    }
    <h2>Steps</h2>
    <ol class="steps" data-testid="steps">
      ${view.steps.map(
        (s) =>
          html`<li key=${s.index} class="card">
            <p><strong>${s.tool}</strong> <${Badge} status=${s.status} />${s.node ? html` <span class="muted">node ${s.node}</span>` : null}</p>
            ${s.decision ? html`<p class="policy">Policy: <${Badge} status=${s.decision.outcome} /> <code>${s.decision.policyIds.join(', ') || '—'}</code> ${s.decision.reason}</p>` : null}
            <${Args} args=${s.args} />
            ${s.approvalId ? html`<p><a href=${`#/approvals/${encodeURIComponent(s.approvalId)}`}>Approval ${s.approvalId}</a></p>` : null} ${s.error ? html`<p class="error">${s.error}</p>` : null}
            ${
              s.result
                ? html`<details>
                    <summary>Result${s.result.isError ? ' (tool error)' : ''}</summary>
                    <${Json} value=${s.result.data} />
                  </details>`
                : null
            }
          </li>`,
      )}
    </ol>
    ${
      view.approvals.length
        ? html`<h2>Approvals</h2>
            <ul class="rows" data-testid="approvals">
              ${view.approvals.map(
                (a) =>
                  html`<li key=${a.approvalId}>
                    <a href=${`#/approvals/${encodeURIComponent(a.approvalId)}`}>${a.tool}</a> <${Badge} status=${a.status} /> ${a.decidedBy ? html` by ${a.decidedBy}` : null} <${Quorum} a=${a} />
                  </li>`,
              )}
            </ul>`
        : null
    }
    ${
      view.result !== null && view.result !== undefined
        ? html`<h2>Result</h2>
            ${typeof view.result?.summary === 'string' ? html`<p data-testid="result-summary">${view.result.summary}</p>` : null}
            <details>
              <summary>Full result</summary>
              <${Json} value=${view.result} />
            </details>`
        : null
    }
    ${
      view.error
        ? html`<h2>Error</h2>
            <p class="error">${view.error.type}: ${view.error.message}</p>`
        : null
    }
    ${audit ? html`<${Audit} records=${audit.records} />` : null}
  </section>`;
}

/** What the run has touched (data-flow labels): what an approver should know before letting a write through. */
function Labels({ l }) {
  return html`<p class="muted" data-testid="labels">
    Holds <strong>${l.classification}</strong> data${l.servers.length ? html` from ${l.servers.join(', ')}` : null}${
      l.untrusted ? html` · <strong>untrusted content</strong> from ${l.untrustedSources.join(', ')}` : null
    }
  </p>`;
}

function Reconcile({ r }) {
  return html`<div class="card attention" data-testid="reconciliation">
    <h2>Needs reconciliation</h2>
    <p>${r.reason}</p>
    ${
      r.done.length
        ? html`<p>These changes ran: check them, and undo them or finish the rest by hand.</p>
            <ul>
              ${r.done.map((d) => html`<li>step ${d.step}: <code>${d.tool}</code> <${Args} args=${d.args} /></li>`)}
            </ul>`
        : null
    }
    ${
      r.notDone.length
        ? html`<p>These did not run:</p>
            <ul>
              ${r.notDone.map((d) => html`<li>step ${d.step}: <code>${d.tool}</code> (${d.status})${d.error ? `: ${d.error}` : ''}</li>`)}
            </ul>`
        : null
    }
  </div>`;
}

function Questions({ view, onDone }) {
  const [answers, setAnswers] = useState({});
  const [problem, setProblem] = useState(undefined);
  const send = async (inputId) => {
    setProblem(undefined);
    let value;
    try {
      value = JSON.parse(answers[inputId] ?? '');
    } catch {
      value = answers[inputId] ?? '';
    }
    try {
      await api('POST', `/v1/runs/${encodeURIComponent(view.runId)}/input`, { inputId, value });
      onDone();
    } catch (err) {
      setProblem(err);
    }
  };
  return html`<div class="card attention">
    <h2>The agent asks</h2>
    ${view.pendingInputs.map(
      (q) =>
        html`<div key=${q.inputId}>
          <${Json} value=${q.value} />
          <label for=${`answer-${q.inputId}`}>Your answer (JSON or text)</label>
          <textarea id=${`answer-${q.inputId}`} rows="2" onInput=${(e) => setAnswers({ ...answers, [q.inputId]: e.currentTarget.value })}></textarea>
          <button type="button" onClick=${() => send(q.inputId)}>Answer</button>
        </div>`,
    )}
    <${ErrorNote} error=${problem} />
  </div>`;
}

function Audit({ records }) {
  return html`<h2>Audit trail</h2>
    <ol class="audit" data-testid="audit">
      ${records.map(
        (r, i) =>
          html`<li key=${i}>
            <span class="muted">${when(r.at)}</span> <strong>${r.type}</strong> ${r.principal ? html`by ${typeof r.principal === 'string' ? r.principal : (r.principal.subject ?? '')}` : null}
            ${r.tool ? html` <code>${r.tool}</code>` : null} ${r.outcome ? html` <${Badge} status=${r.outcome} />` : null}
          </li>`,
      )}
    </ol>`;
}
