// The `notifications:` section: channels (a signed webhook, a Slack incoming webhook, email over SMTP), routes that
// send events of some groups and agents to channels, and how deliveries are retried. Secrets are references
// (`{env: NAME}` / `{file: PATH}`) like everywhere else in the config, resolved by the notify activity when it sends.
import { z } from 'zod';
import { NOTIFY_EVENTS, type NotifySpec } from '../core/notifications.js';
import type { DurationSchema, SecretRefSchema } from './schema.js';

const Id = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'ids are lower-case letters, digits and dashes');

/** Built with the config's own secret-reference and duration schemas (passed in: schema.ts imports this module). */
export function notificationsSchema(secretRef: typeof SecretRefSchema, duration: typeof DurationSchema) {
  const Channel = z.discriminatedUnion('kind', [
    /** A JSON POST signed with `X-Airlock-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
    z.strictObject({ kind: z.literal('webhook'), url: z.url(), secret: secretRef, headers: z.record(z.string(), z.string()).default({}) }),
    /** A Slack incoming webhook; its URL is a credential, so it is a reference too. */
    z.strictObject({ kind: z.literal('slack'), url: secretRef }),
    /** Email through `notifications.smtp`. */
    z.strictObject({ kind: z.literal('email'), to: z.array(z.email()).min(1), subjectPrefix: z.string().default('[Airlock]') }),
  ]);
  return z
    .strictObject({
      /** Where people open Airlock: links in messages go to `<publicUrl>/inbox/approvals/<approvalId>`. Default: the API's address. */
      publicUrl: z.url().optional(),
      channels: z.record(Id, Channel).default({}),
      routes: z
        .array(
          z.strictObject({
            events: z.array(z.enum(NOTIFY_EVENTS)).min(1),
            /** Only approvals (or questions) these groups may act on; any when absent. */
            groups: z.array(z.string().min(1)).min(1).optional(),
            /** Only runs of these agents; any when absent. */
            agents: z.array(Id).min(1).optional(),
            channels: z.array(Id).min(1),
          }),
        )
        .default([]),
      smtp: z
        .strictObject({
          host: z.string().min(1),
          port: z.number().int().min(1).max(65535).default(587),
          /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
          secure: z.boolean().default(false),
          user: z.string().min(1).optional(),
          password: secretRef.optional(),
          from: z.string().min(3),
        })
        .optional(),
      /** Each delivery is an activity: retried with exponential backoff up to `maximumAttempts`. */
      delivery: z.strictObject({ maximumAttempts: z.number().int().min(1).max(20).default(5), initialInterval: duration.default(1_000), timeout: duration.default(10_000) }).prefault({}),
    })
    .superRefine((n, ctx) => {
      n.routes.forEach((r, i) =>
        r.channels.forEach((c, j) => {
          if (!(c in n.channels)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'channels', j], message: `no channel "${c}" in notifications.channels` });
        }),
      );
      for (const [id, c] of Object.entries(n.channels))
        if (c.kind === 'email' && !n.smtp) ctx.addIssue({ code: 'custom', path: ['channels', id], message: 'an email channel needs notifications.smtp' });
    });
}

export type NotificationsConfig = z.infer<ReturnType<typeof notificationsSchema>>;

/** What a run of `agent` notifies, pinned into it at start; undefined when no route applies (nothing is scheduled then). */
export function notifySpec(n: NotificationsConfig | undefined, agent: string): NotifySpec | undefined {
  const routes = (n?.routes ?? []).filter((r) => !r.agents || r.agents.includes(agent)).map(({ events, groups, channels }) => ({ events, ...(groups ? { groups } : {}), channels }));
  if (!n || !routes.length) return undefined;
  return { routes, delivery: { maximumAttempts: n.delivery.maximumAttempts, initialIntervalMs: n.delivery.initialInterval, timeoutMs: n.delivery.timeout } };
}
