// Delivering a rendered notification: a signed JSON POST (webhooks, Slack) or an email over SMTP. A receiver's
// answer decides whether the activity retries: network errors, timeouts, 408, 429 and 5xx are worth another
// attempt; any other 4xx is a refusal. Errors never carry a URL, a header or a password: only what went wrong.
import { createHash, createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import { AirlockError, ErrorCode } from '../core/errors.js';

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`: what `X-Airlock-Signature` carries. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

const failed = (message: string) => new AirlockError(ErrorCode.NotificationFailed, message);
const refused = (message: string) => new AirlockError(ErrorCode.NotificationRefused, message);

/** What a fetch failure was, without its URL: the cause's code (ECONNREFUSED, ENOTFOUND, …) or the kind of error. */
function networkReason(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return e.cause?.code ?? e.cause?.name ?? e.name ?? 'network error';
}

/** POSTs `body` as JSON; resolves on 2xx. */
export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw failed(`the receiver could not be reached (${networkReason(err)})`);
  }
  // Only the status: a receiver's body could echo anything back.
  await res.body?.cancel().catch(() => {});
  if (res.ok) return;
  if (res.status === 408 || res.status === 429 || res.status >= 500) throw failed(`the receiver answered HTTP ${res.status}`);
  throw refused(`the receiver refused the notification: HTTP ${res.status}`);
}

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
}

/** Sends one email; the Message-ID comes from the delivery id, so a retried send is recognisably the same message. */
export async function sendEmail(smtp: SmtpSettings, msg: { from: string; to: string[]; subject: string; text: string; html: string; delivery: string }, timeoutMs: number): Promise<void> {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
  });
  try {
    await transport.sendMail({
      from: msg.from,
      to: msg.to,
      subject: msg.subject,
      text: msg.text,
      html: msg.html,
      messageId: `<${createHash('sha256').update(msg.delivery).digest('hex').slice(0, 32)}@airlock>`,
      headers: { 'X-Airlock-Delivery': msg.delivery },
    });
  } catch (err) {
    const e = err as { code?: string; responseCode?: number };
    // 5xx SMTP replies are permanent (a refused recipient, a refused login); anything else may pass next time.
    if (typeof e.responseCode === 'number' && e.responseCode >= 500) throw refused(`the mail server refused the message (${e.responseCode})`);
    throw failed(`the mail server could not take the message (${e.code ?? e.responseCode ?? 'error'})`);
  } finally {
    transport.close();
  }
}
