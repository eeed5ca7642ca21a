// The notify activity: renders one notification for one channel and delivers it (src/notify/). Scheduled by the
// workflow once per event and channel (workflows/notify.ts); Temporal's retry policy does the retries, and every
// attempt carries the same delivery id (`X-Airlock-Delivery`) so a receiver can drop duplicates. Secrets are
// resolved here, at send time, and masked out of any error that could reach history or a log.
import { Context } from '@temporalio/activity';
import type { Redactor as AuditRedactor } from '../src/audit/redact.js';
import type { AirlockConfig } from '../src/config/load.js';
import { AirlockError, ErrorCode } from '../src/core/errors.js';
import type { Notification } from '../src/core/notifications.js';
import { postJson, sendEmail, signature } from '../src/notify/deliver.js';
import { emailMessage, inboxLink, slackMessage, webhookBody } from '../src/notify/render.js';
import { defaultSecretSource } from '../src/registry/credentials.js';
import { Redactor } from '../src/registry/redact.js';
import { failure } from '../workflows/failure.js';

export interface NotifyInput {
  channel: string;
  notification: Notification;
}

export function createNotifyActivities(deps: { config: AirlockConfig; redactor: AuditRedactor }) {
  const { config } = deps;
  const source = defaultSecretSource(config.env);

  /** The call's args and the question as the audit trail records them (its field rules applied). */
  function masked(n: Notification): Notification {
    const [server, ...rest] = (n.tool ?? '').split('.');
    return {
      ...n,
      ...(n.args ? { args: deps.redactor.redact(n.args, server, rest.join('.')) as Notification['args'] } : {}),
      ...(n.question !== undefined ? { question: deps.redactor.redact(n.question) } : {}),
    };
  }

  async function notify({ channel, notification }: NotifyInput): Promise<{ delivery: string; channel: string }> {
    const settings = config.notifications;
    const ch = settings?.channels[channel];
    if (!settings || !ch) throw failure(ErrorCode.NotificationRefused, `no notification channel "${channel}" in this worker's config`);
    const n = masked(notification);
    const link = inboxLink(settings.publicUrl ?? `http://${config.api.host}:${config.api.port}`, n);
    const timeout = settings.delivery.timeout;
    // Every secret this delivery touches, so none can leave in an error.
    const secrets = new Redactor();
    const secret = (ref: { env: string } | { file: string }) => {
      const v = source.get(ref);
      secrets.add(v);
      return v;
    };
    const common = { 'user-agent': 'airlock-notify', 'x-airlock-delivery': n.delivery, 'x-airlock-event': n.event };
    try {
      if (ch.kind === 'webhook') {
        const body = JSON.stringify(webhookBody(n, link));
        const timestamp = String(Math.floor(Date.now() / 1000));
        await postJson(ch.url, body, { ...ch.headers, ...common, 'x-airlock-timestamp': timestamp, 'x-airlock-signature': signature(secret(ch.secret), timestamp, body) }, timeout);
      } else if (ch.kind === 'slack') {
        await postJson(secret(ch.url), JSON.stringify(slackMessage(n, link)), common, timeout);
      } else {
        const smtp = settings.smtp!;
        const password = smtp.password ? secret(smtp.password) : undefined;
        const mail = emailMessage(n, link, ch.subjectPrefix);
        const server = { host: smtp.host, port: smtp.port, secure: smtp.secure, ...(smtp.user ? { user: smtp.user } : {}), ...(password ? { password } : {}) };
        await sendEmail(server, { ...mail, from: smtp.from, to: ch.to, delivery: n.delivery }, timeout);
      }
    } catch (err) {
      const code = err instanceof AirlockError ? err.code : ErrorCode.NotificationFailed;
      const attempt = Context.current().info.attempt;
      throw failure(code, secrets.text(`${ch.kind} channel "${channel}", ${n.delivery}, attempt ${attempt}: ${(err as Error).message}`));
    }
    return { delivery: n.delivery, channel };
  }

  return { notify };
}
