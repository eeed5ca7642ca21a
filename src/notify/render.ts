// What each channel receives for a notification: the webhook's JSON, a Slack Block Kit message, an email (text and
// simple HTML). Args are masked before they get here (the audit's field rules); rendering adds nothing secret.
import type { Json, JsonObject } from '../core/types.js';
import type { Notification } from '../core/notifications.js';

/** Where a person acts on the notification: the inbox page of the approval, or of the run that asked a question. */
export function inboxLink(publicUrl: string, n: Pick<Notification, 'approvalId' | 'runId'>): string {
  const base = publicUrl.replace(/\/+$/, '');
  return n.approvalId ? `${base}/inbox/approvals/${encodeURIComponent(n.approvalId)}` : `${base}/inbox/runs/${encodeURIComponent(n.runId)}`;
}

/** The webhook body: the notification and its link, as JSON. */
export function webhookBody(n: Notification, link: string): JsonObject {
  return { ...(JSON.parse(JSON.stringify(n)) as JsonObject), link };
}

const HEADLINES: Record<Notification['event'], string> = {
  'approval.requested': 'Approval requested',
  'approval.escalated': 'Approval escalated',
  'approval.decided': 'Approval decided',
  'approval.expired': 'Approval expired',
  'input.requested': 'Input requested',
};

/** The amount of a call, when its args name one (`amount`, `amount_cents`, `total`…), as the args give it. */
function amountOf(args: JsonObject | undefined): string | undefined {
  if (!args) return undefined;
  for (const k of ['amount', 'amountCents', 'amount_cents', 'total', 'value']) {
    const v = args[k];
    if (typeof v === 'number' || typeof v === 'string') return `${v}${args.currency ? ` ${String(args.currency)}` : ''}`;
  }
  return undefined;
}

const text = (v: Json | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

/** Labelled facts, in the order every channel shows them. */
export function facts(n: Notification): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['Agent', n.agent],
    ['Requester', n.onBehalfOf ? `${n.requester} for ${n.onBehalfOf}` : n.requester],
  ];
  if (n.tool) out.push(['Tool', n.tool]);
  const amount = amountOf(n.args);
  if (amount) out.push(['Amount', amount]);
  if (n.groups.length) out.push(['Groups', n.groups.join(', ')]);
  if (n.status && n.event !== 'approval.requested') out.push(['Status', n.status + (n.decidedBy ? ` by ${n.decidedBy}` : '')]);
  if (n.expiresAt && (n.event === 'approval.requested' || n.event === 'approval.escalated')) out.push(['Expires', n.expiresAt]);
  if (n.question !== undefined) out.push(['Question', text(n.question).slice(0, 500)]);
  return out;
}

const subjectOf = (n: Notification) => `${HEADLINES[n.event]}: ${n.tool ?? n.inputId ?? n.runId} (${n.agent})`;

/** Slack: a header, the facts as fields, the reason, and a button to the inbox. */
export function slackMessage(n: Notification, link: string): JsonObject {
  const mrkdwn = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  const blocks: JsonObject[] = [
    { type: 'header', text: { type: 'plain_text', text: HEADLINES[n.event].slice(0, 150), emoji: false } },
    {
      type: 'section',
      fields: facts(n)
        .slice(0, 10)
        .map(([k, v]) => ({ type: 'mrkdwn', text: `*${mrkdwn(k)}*\n${mrkdwn(v).slice(0, 1900)}` })),
    },
  ];
  if (n.reason) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: mrkdwn(n.reason).slice(0, 2900) } });
  blocks.push({
    type: 'actions',
    elements: [{ type: 'button', text: { type: 'plain_text', text: n.approvalId ? 'Open in the inbox' : 'Open the run' }, url: link, action_id: 'airlock-open' }],
  });
  return { text: `${subjectOf(n)} ${link}`, blocks };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function emailMessage(n: Notification, link: string, subjectPrefix: string): { subject: string; text: string; html: string } {
  const rows = facts(n);
  const subject = `${subjectPrefix ? `${subjectPrefix} ` : ''}${subjectOf(n)}`;
  const lines = [HEADLINES[n.event], '', ...rows.map(([k, v]) => `${k}: ${v}`), ...(n.reason ? ['', n.reason] : []), '', `Open: ${link}`, '', `Delivery: ${n.delivery}`];
  const html = [
    `<h2>${escapeHtml(HEADLINES[n.event])}</h2>`,
    `<table>${rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`,
    n.reason ? `<p>${escapeHtml(n.reason)}</p>` : '',
    `<p><a href="${escapeHtml(link)}">Open in the Airlock inbox</a></p>`,
  ].join('\n');
  return { subject, text: lines.join('\n'), html };
}
