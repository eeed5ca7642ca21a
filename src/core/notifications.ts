// Notifications: which events are sent where, and what a notification says. Pure: the workflow builds each
// notification from its own record of the run and picks the channels by the routes pinned into the run at start;
// the notify activity renders and delivers it (activities/notify.ts).
import { groupsThatMayDecide } from './approvals.js';
import type { Approval, Json, JsonObject, PendingInput } from './types.js';

/** The events a route can send. */
export const NOTIFY_EVENTS = ['approval.requested', 'approval.escalated', 'approval.decided', 'approval.expired', 'input.requested'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** A route as pinned into a run: these events, for these groups (any when absent), to these channels. */
export interface NotifyRoute {
  events: NotifyEvent[];
  groups?: string[];
  channels: string[];
}

/** What a run notifies (AgentSpec.notify): its agent's routes and how deliveries are retried. */
export interface NotifySpec {
  routes: NotifyRoute[];
  delivery: { maximumAttempts: number; initialIntervalMs: number; timeoutMs: number };
}

/** What a notification says. Args are the call's as proposed; the activity masks them with the audit's field rules before sending. */
export interface Notification {
  /** `<runId>/<approvalId or inputId>/<event>`: the same on every retry, so a receiver can drop duplicates. */
  delivery: string;
  event: NotifyEvent;
  at: string;
  runId: string;
  agent: string;
  requester: string;
  onBehalfOf?: string;
  /** Who may act on it: the approval's groups (with the escalation group once escalated), or the question's. */
  groups: string[];
  approvalId?: string;
  tool?: string;
  args?: JsonObject;
  reason?: string;
  quorum?: number;
  expiresAt?: string;
  escalateTo?: string;
  /** The approval's status after the event (approved, rejected, expired, pending). */
  status?: string;
  decidedBy?: string;
  comment?: string;
  inputId?: string;
  question?: Json;
}

export interface RunFacts {
  runId: string;
  agent: string;
  requester: string;
  onBehalfOf?: string;
}

export const deliveryId = (runId: string, item: string, event: NotifyEvent): string => `${runId}/${item}/${event}`;

/** The notification of an approval event (the approval as it is right after the event). */
export function approvalNotification(event: Exclude<NotifyEvent, 'input.requested'>, a: Approval, run: RunFacts, at: string): Notification {
  return {
    delivery: deliveryId(run.runId, a.approvalId, event),
    event,
    at,
    ...run,
    groups: groupsThatMayDecide(a),
    approvalId: a.approvalId,
    tool: a.tool,
    args: a.args,
    reason: a.reason,
    quorum: a.quorum,
    expiresAt: a.expiresAt,
    ...(a.escalateTo ? { escalateTo: a.escalateTo } : {}),
    status: a.status,
    ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
    ...(a.comment ? { comment: a.comment } : {}),
  };
}

export function inputNotification(p: PendingInput, run: RunFacts, at: string): Notification {
  return { delivery: deliveryId(run.runId, p.inputId, 'input.requested'), event: 'input.requested', at, ...run, groups: p.groups, inputId: p.inputId, question: p.value };
}

/** The channels a notification goes to: every route for its event whose groups (if any) include one of the notification's. */
export function channelsFor(routes: NotifyRoute[], n: Pick<Notification, 'event' | 'groups'>): string[] {
  const out = new Set<string>();
  for (const r of routes) {
    if (!r.events.includes(n.event)) continue;
    if (r.groups && !r.groups.some((g) => n.groups.includes(g))) continue;
    for (const c of r.channels) out.add(c);
  }
  return [...out];
}
