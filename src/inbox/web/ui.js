// Small pieces every view uses: status badges, readable args (money and identifiers first), countdowns, votes.
import { duration, html, json, money, splitTool, useNow, when } from './lib.js';

export const Badge = ({ status }) => html`<span class=${`badge badge-${status}`}>${String(status).replaceAll('_', ' ')}</span>`;

export const ErrorNote = ({ error }) => (error ? html`<p class="error" role="alert">${error.message}</p>` : null);

const IDENTIFIER = /(^id$|Id$|_id$)/;
const MONEY_KEYS = new Set(['amount', 'total', 'price', 'refundAmount']);

/** Args as a person reads them: amounts with their currency large, identifiers in a box, the rest below. */
export function Args({ args }) {
  const entries = Object.entries(args ?? {});
  const amounts = entries.filter(([k, v]) => MONEY_KEYS.has(k) && typeof v === 'number');
  const ids = entries.filter(([k, v]) => IDENTIFIER.test(k) && typeof v === 'string');
  const rest = entries.filter(([k]) => !amounts.some(([a]) => a === k) && !ids.some(([i]) => i === k) && !(k === 'currency' && amounts.length));
  return html`<div class="args">
    ${
      amounts.length || ids.length
        ? html`<div class="args-key">
            ${amounts.map(([k, v]) => html`<div class="money" data-testid="money"><span class="label">${k}</span> <strong>${money(v, args.currency)}</strong></div>`)}
            ${ids.map(([k, v]) => html`<div class="ident"><span class="label">${k}</span> <code>${v}</code></div>`)}
          </div>`
        : null
    }
    ${
      rest.length
        ? html`<dl class="kv">
            ${rest.map(
              ([k, v]) =>
                html`<dt>${k}</dt>
                  <dd>${typeof v === 'string' ? v : html`<code>${JSON.stringify(v)}</code>`}</dd>`,
            )}
          </dl>`
        : null
    }
  </div>`;
}

export function Countdown({ to, label, done }) {
  const now = useNow();
  if (!to) return null;
  const left = new Date(to).getTime() - now;
  return html`<span class=${left <= 0 ? 'countdown over' : left < 3600_000 ? 'countdown soon' : 'countdown'} title=${when(to)}>
    ${left <= 0 ? done : html`${label} in <time datetime=${to}>${duration(left)}</time>`}
  </span>`;
}

export function Quorum({ a }) {
  const yes = a.votes.filter((v) => v.decision === 'approve');
  return html`<div class="quorum">
    <span>${yes.length} of ${a.quorum} approval${a.quorum > 1 ? 's' : ''}</span>
    <progress max=${a.quorum} value=${yes.length} aria-label="approvals so far"></progress>
    ${a.votes.length ? html`<span class="voters">${a.votes.map((v) => html`<span class=${`vote vote-${v.decision}`}>${v.by} ${v.decision === 'approve' ? 'approved' : 'rejected'}${v.comment ? `: “${v.comment}”` : ''}</span>`)}</span>` : null}
  </div>`;
}

/** Who asked, for whom, what, and why it waits. */
export function ApprovalSummary({ a, agent }) {
  const t = splitTool(a.tool);
  return html`<div class="summary">
    <p class="tool"><strong>${t.name}</strong> on <span class="server">${t.server}</span>${agent ? html` · agent <strong>${agent}</strong>` : null}</p>
    <p class="who">Asked by <strong>${a.requestedBy}</strong>${a.onBehalfOf ? html` on behalf of <strong>${a.onBehalfOf}</strong>` : null} · ${when(a.requestedAt)}</p>
    <${Args} args=${a.args} />
    <p class="policy">Policy <code>${a.policyIds.join(', ') || '(autonomy phase)'}</code> (version <code>${a.policyVersion.slice(0, 12)}</code>): ${a.reason}</p>
    <p class="group">Needs <strong>${a.requiredGroup}</strong>${a.escalated ? html`, escalated to <strong>${a.escalateTo}</strong>` : null}</p>
    <${Quorum} a=${a} />
    ${
      a.status === 'pending'
        ? html`<p class="timers">
            ${a.escalateTo && a.escalatesAt && !a.escalated ? html`<${Countdown} to=${a.escalatesAt} label=${`Escalates to ${a.escalateTo}`} done=${`Escalating to ${a.escalateTo}`} />` : null}
            <${Countdown} to=${a.expiresAt} label="Expires" done="Expired" />
          </p>`
        : null
    }
  </div>`;
}

export const Json = ({ value }) => html`<pre class="json">${json(value)}</pre>`;
