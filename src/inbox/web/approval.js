// One approval: everything the approver needs to decide, and the decision (approve, reject, approve an edited call).
// Buttons appear only when the API would let this person decide; the server refuses anything else anyway.
import { api, hasRole, html, json, me, runIdOf, session, useLive, useState } from './lib.js';
import { ApprovalSummary, Badge, ErrorNote, Json } from './ui.js';

async function load(approvalId) {
  const runId = runIdOf(approvalId);
  const [view, mine] = await Promise.all([
    api('GET', `/v1/runs/${encodeURIComponent(runId)}`),
    hasRole('approver') ? api('GET', '/v1/approvals?status=pending&limit=1000').then((r) => r.approvals) : Promise.resolve([]),
  ]);
  const a = view.pendingApprovals.find((x) => x.approvalId === approvalId) ?? view.approvals.find((x) => x.approvalId === approvalId);
  return { view, a, mayDecide: Boolean(a && a.status === 'pending' && mine.some((x) => x.approvalId === approvalId) && mayDecide(a)) };
}

/** The list already applies the rule for approvers; operators who also approve see every approval there, so check the basics. */
function mayDecide(a) {
  const p = session.me.principal;
  if (!hasRole('operator', 'admin')) return true;
  const groups = a.escalated && a.escalateTo ? [a.requiredGroup, a.escalateTo] : [a.requiredGroup];
  return a.requestedBy !== p.subject && a.onBehalfOf !== p.subject && groups.some((g) => p.groups.includes(g)) && !a.votes.some((v) => v.by === p.subject);
}

export function ApprovalPage({ approvalId }) {
  const { data, error, reload } = useLive(() => load(approvalId), [approvalId]);
  // What the last decision did, kept here: the form goes away once this person may no longer decide.
  const [flash, setFlash] = useState(undefined);
  if (!data)
    return html`<section>
      <h1 tabindex="-1">Approval</h1>
      <${ErrorNote} error=${error} />
    </section>`;
  const { view, a } = data;
  if (!a)
    return html`<section>
      <h1 tabindex="-1">Approval</h1>
      <p>No approval ${approvalId} in run <a href=${`#/runs/${view.runId}`}>${view.runId}</a>.</p>
    </section>`;
  const voted = a.votes.find((v) => v.by === me());
  return html`<section>
    <h1 tabindex="-1">${a.tool} <${Badge} status=${a.status} /></h1>
    <p class="muted">
      Approval <code>${a.approvalId}</code> in run <a href=${`#/runs/${encodeURIComponent(view.runId)}`}>${view.runId}</a> (run status <${Badge} status=${view.status} />) · digest
      <code title=${a.digest}>${a.digest.slice(0, 12)}…</code>
    </p>
    <${ErrorNote} error=${error} />
    <div class="card"><${ApprovalSummary} a=${a} agent=${view.agent} /></div>
    ${a.status === 'expired' ? html`<p class="notice" data-testid="expired">This approval expired at ${new Date(a.expiresAt).toLocaleString()} without a decision; the run was ${view.status}.</p>` : null}
    ${
      a.status === 'superseded' && a.supersededBy
        ? html`<p class="notice">This call was edited and replaced: <a href=${`#/approvals/${encodeURIComponent(a.supersededBy)}`}>review the edited call</a>.</p>`
        : null
    }
    ${a.status !== 'pending' && a.status !== 'expired' && a.decidedBy ? html`<p class="notice">${a.status} by ${a.decidedBy}${a.comment ? `: “${a.comment}”` : ''}.</p>` : null}
    ${voted && a.status === 'pending' ? html`<p class="notice" data-testid="voted">You ${voted.decision === 'approve' ? 'approved' : 'rejected'} this; it waits for other approvers.</p>` : null}
    ${flash?.ok ? html`<p class="ok" role="status" data-testid="outcome">${flash.ok}</p>` : null}
    <${ErrorNote} error=${flash?.error} />
    ${data.mayDecide ? html`<${DecisionForm} a=${a} onResult=${(f) => (setFlash(f), reload())} key=${a.digest} />` : null}
    <details>
      <summary>Raw args</summary>
      <${Json} value=${a.args} />
    </details>
  </section>`;
}

/** Same keys and JSON types as the proposed args: what can be checked without the tool's schema. */
function typeProblems(original, edited) {
  const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const out = [];
  for (const [k, v] of Object.entries(edited)) if (k in original && kind(original[k]) !== kind(v)) out.push(`${k} must be ${kind(original[k])}, not ${kind(v)}`);
  return out;
}

function DecisionForm({ a, onResult }) {
  const [comment, setComment] = useState('');
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(json(a.args));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(undefined);

  const decide = async (decision, withEdit) => {
    setProblem(undefined);
    onResult(undefined);
    const body = { decision, digest: a.digest, ...(comment.trim() ? { comment: comment.trim() } : {}) };
    if (withEdit) {
      let args;
      try {
        args = JSON.parse(text);
      } catch (err) {
        return setProblem({ message: `The edited args are not valid JSON: ${err.message}` });
      }
      if (!args || typeof args !== 'object' || Array.isArray(args)) return setProblem({ message: 'The edited args must be a JSON object.' });
      const types = typeProblems(a.args, args);
      if (types.length) return setProblem({ message: `The edited args do not fit the call: ${types.join('; ')}.` });
      const check = await api('POST', '/inbox/api/check-args', { tool: a.tool, args }).catch((err) => ({ valid: false, errors: [err.message] }));
      if (!check.valid) return setProblem({ message: `The edited args do not match ${a.tool}'s input schema: ${check.errors.join('; ')}.` });
      body.args = args;
    }
    setBusy(true);
    try {
      const { approval } = await api('POST', `/v1/approvals/${encodeURIComponent(a.approvalId)}/decision`, body);
      const next = approval.approvalId !== a.approvalId ? ` The edited call is ${approval.approvalId} (${approval.status}).` : '';
      const left = approval.quorum - approval.votes.filter((v) => v.decision === 'approve').length;
      onResult({ ok: approval.status === 'pending' ? `Your vote is recorded; ${left} more approval${left === 1 ? '' : 's'} needed.${next}` : `Done: ${approval.status}.${next}` });
    } catch (err) {
      const changed = err.code === 'digest_mismatch' || (err.status === 409 && /digest/i.test(err.message));
      onResult({ error: changed ? { message: `This call changed after you opened it, so your decision was not applied (${err.message}). Review the current call and decide again.` } : err });
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="decide card" onSubmit=${(e) => e.preventDefault()} aria-label="Decision">
    <h2>Your decision</h2>
    <label for="comment">Comment (recorded with your vote)</label>
    <textarea id="comment" rows="2" maxlength="2000" value=${comment} onInput=${(e) => setComment(e.currentTarget.value)}></textarea>
    <div class="buttons">
      <button type="button" class="approve" disabled=${busy} onClick=${() => decide('approve', false)}>Approve</button>
      <button type="button" class="reject" disabled=${busy} onClick=${() => decide('reject', false)}>Reject</button>
      <button type="button" class="secondary" aria-expanded=${editing} onClick=${() => setEditing(!editing)}>${editing ? 'Cancel edit' : 'Edit args…'}</button>
    </div>
    ${
      editing
        ? html`<div class="edit">
            <label for="args">Edited args (JSON). Policy decides the edited call again.</label>
            <textarea id="args" class="code" rows="10" spellcheck="false" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
            <button type="button" class="approve" disabled=${busy} onClick=${() => decide('approve', true)}>Approve with these args</button>
          </div>`
        : null
    }
    <${ErrorNote} error=${problem} />
  </form>`;
}
