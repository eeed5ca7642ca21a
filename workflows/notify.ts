// Notifications from the run: when it requests, escalates, settles or expires an approval, or asks a question, the
// workflow starts one `notify` activity per channel its pinned routes pick (AgentSpec.notify). Each is scheduled
// once (it is in history), retried by its own retry policy, and never awaited by the run's progress: a failure is
// logged and the run goes on. At the run's end the workflow gives deliveries still under way a bounded time to
// finish (a closed workflow's pending activities are dropped), then closes regardless.
// Runs started without routes, or before this existed, schedule nothing (`patched` keeps old histories replaying).
import { condition, log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AuditEventInput } from '../src/audit/types.js';
import { approvalNotification, channelsFor, inputNotification, NOTIFY_EVENTS, type Notification, type NotifyEvent } from '../src/core/notifications.js';
import { NOTIFY_DELIVERY } from './presets.js';
import type { RunState } from './runState.js';

export const NOTIFY_PATCH = 'airlock-notify';

/** How long a closing run waits for deliveries still being retried. */
const DRAIN_MS = 60_000;

const { notify } = proxyActivities<Activities>(NOTIFY_DELIVERY);

export interface Notifier {
  /** Called with each audit event the run notes; starts the deliveries it calls for. */
  onEvent(e: AuditEventInput): void;
  /** Before the workflow closes: waits (bounded) for deliveries under way. */
  drain(): Promise<void>;
}

/** The run's notifier, or none when it has no routes. Call once, at the start of the workflow (it records the patch). */
export function createNotifier(run: RunState): Notifier | undefined {
  const spec = run.input.agent.notify;
  if (!spec?.routes.length || !patched(NOTIFY_PATCH)) return undefined;
  const options = {
    ...NOTIFY_DELIVERY,
    startToCloseTimeout: spec.delivery.timeoutMs,
    retry: { ...NOTIFY_DELIVERY.retry, initialInterval: spec.delivery.initialIntervalMs, maximumAttempts: spec.delivery.maximumAttempts },
  };
  let inFlight = 0;

  function send(n: Notification): void {
    for (const channel of channelsFor(spec!.routes, n)) {
      inFlight++;
      // Detached: the run does not wait, and a delivery that fails for good is a log line, never the run's failure.
      notify
        .executeWithOptions({ ...options, summary: `notify ${channel}: ${n.event} ${n.approvalId ?? n.inputId ?? ''}` }, [{ channel, notification: n }])
        .catch((err: unknown) => log.warn('notification not delivered', { channel, delivery: n.delivery, error: (err as Error).message }))
        .finally(() => inFlight--);
    }
  }

  function notificationOf(e: AuditEventInput): Notification | undefined {
    const facts = { runId: run.input.runId, agent: run.input.agent.name, requester: run.input.principal.subject, ...(run.identity.onBehalfOf ? { onBehalfOf: run.identity.onBehalfOf } : {}) };
    if (e.type === 'input.requested') {
      const p = run.inputs.find((i) => i.inputId === e.data.inputId);
      return p && inputNotification(p, facts, e.at);
    }
    const a = run.approvals.find((x) => x.approvalId === e.data.approvalId);
    if (!a) return undefined;
    const event = e.type as Exclude<NotifyEvent, 'input.requested'>;
    // A vote that does not settle the approval (a quorum still short) is not news for the channels.
    if (e.type === 'approval.decided' && a.status === 'pending') return undefined;
    return approvalNotification(event, a, facts, e.at);
  }

  return {
    onEvent(e) {
      if (!NOTIFIED.has(e.type)) return;
      const n = notificationOf(e);
      if (n) send(n);
    },
    async drain() {
      if (inFlight > 0) await condition(() => inFlight === 0, DRAIN_MS);
    },
  };
}

const NOTIFIED = new Set<string>(NOTIFY_EVENTS);
