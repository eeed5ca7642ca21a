// Demo billing: invoices and idempotent refunds. Money is integer cents inside, decimal numbers outside.
import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { AccountId, errorResult, jsonResult, nextId, nowIso, openDatabase, READ_ONLY, sqlList, writes, writeTransaction, type Db } from './common.js';

const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void'] as const;

const SCHEMA = `
CREATE TABLE invoices (
  invoice_id     TEXT PRIMARY KEY,
  account_id     TEXT NOT NULL,
  amount_cents   INTEGER NOT NULL CHECK (amount_cents > 0),
  currency       TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN (${sqlList(INVOICE_STATUSES)})),
  issued_at      TEXT NOT NULL,
  paid_at        TEXT,
  refunded_cents INTEGER NOT NULL DEFAULT 0 CHECK (refunded_cents BETWEEN 0 AND amount_cents)
);
CREATE TABLE refunds (
  refund_id       TEXT PRIMARY KEY,
  invoice_id      TEXT NOT NULL REFERENCES invoices(invoice_id),
  amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
  currency        TEXT NOT NULL,
  reason          TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at      TEXT NOT NULL
);
CREATE INDEX invoices_by_account ON invoices(account_id);
CREATE INDEX refunds_by_invoice ON refunds(invoice_id);
`;

// [invoiceId, accountId, amount in cents, currency, status, issuedAt, paidAt]
const INVOICES = [
  ['INV-2001', 'C-1001', 125_000, 'USD', 'paid', '2025-02-01T00:00:00.000Z', '2025-02-10T12:00:00.000Z'],
  ['INV-2002', 'C-1002', 48_000, 'USD', 'paid', '2025-02-01T00:00:00.000Z', '2025-02-14T09:30:00.000Z'],
  ['INV-2003', 'C-1003', 720_000, 'USD', 'paid', '2025-02-01T00:00:00.000Z', '2025-02-20T16:45:00.000Z'],
  ['INV-2004', 'C-1004', 2_500_000, 'USD', 'paid', '2025-02-01T00:00:00.000Z', '2025-03-01T10:00:00.000Z'],
  ['INV-2005', 'C-1001', 500_000, 'USD', 'paid', '2025-03-01T00:00:00.000Z', '2025-03-12T11:15:00.000Z'],
  ['INV-2006', 'C-1001', 2_000_000, 'USD', 'paid', '2025-03-01T00:00:00.000Z', '2025-03-18T08:00:00.000Z'],
  ['INV-2007', 'C-1002', 315_000, 'USD', 'open', '2025-04-01T00:00:00.000Z', null],
  // One paid invoice per "Things to try" item of the README, so each works from a fresh start, in any order.
  ['INV-2008', 'C-1002', 90_000, 'USD', 'paid', '2025-04-01T00:00:00.000Z', '2025-04-08T10:00:00.000Z'],
  ['INV-2009', 'C-1003', 900_000, 'USD', 'paid', '2025-04-01T00:00:00.000Z', '2025-04-09T10:00:00.000Z'],
  ['INV-2010', 'C-1004', 240_000, 'USD', 'paid', '2025-04-01T00:00:00.000Z', '2025-04-10T10:00:00.000Z'],
  ['INV-2011', 'C-1002', 180_000, 'USD', 'paid', '2025-04-01T00:00:00.000Z', '2025-04-11T10:00:00.000Z'],
  ['INV-2012', 'C-1003', 75_000, 'USD', 'paid', '2025-04-01T00:00:00.000Z', '2025-04-12T10:00:00.000Z'],
];

function seed(db: Db): void {
  const insert = db.prepare('INSERT INTO invoices (invoice_id, account_id, amount_cents, currency, status, issued_at, paid_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const row of INVOICES) insert.run(row);
}

/** Opens the billing database at `path`, creating and seeding it on first use. */
export function openBillingDb(path: string): Db {
  return openDatabase(path, SCHEMA, seed);
}

/** Cents for a decimal amount, or undefined when it has more than two decimals. */
function toCents(amount: number): number | undefined {
  const cents = Math.round(amount * 100);
  return Number.isSafeInteger(cents) && Math.abs(cents - amount * 100) < 1e-6 ? cents : undefined;
}
const fromCents = (cents: number): number => cents / 100;

const Money = z.number().describe('Decimal amount in the currency, at most 2 decimals (1250 means 1250.00)');
const Currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/)
  .describe('ISO 4217 code, e.g. "USD"');
const InvoiceId = z
  .string()
  .regex(/^INV-\d+$/)
  .describe('Invoice id, e.g. "INV-2001"');
const Invoice = z.object({
  invoiceId: z.string(),
  accountId: z.string(),
  amount: Money,
  currency: z.string(),
  status: z.enum(INVOICE_STATUSES),
  issuedAt: z.string(),
  paidAt: z.string().nullable(),
  refundedAmount: Money,
  refundableAmount: Money.describe('What can still be refunded: 0 unless the invoice is paid'),
});
const Refund = z.object({
  refundId: z.string(),
  invoiceId: z.string(),
  amount: Money,
  currency: z.string(),
  reason: z.string(),
  idempotencyKey: z.string(),
  createdAt: z.string(),
});
type Invoice = z.infer<typeof Invoice>;
type Refund = z.infer<typeof Refund>;

interface InvoiceRow {
  invoice_id: string;
  account_id: string;
  amount_cents: number;
  currency: string;
  status: Invoice['status'];
  issued_at: string;
  paid_at: string | null;
  refunded_cents: number;
}
interface RefundRow {
  refund_id: string;
  invoice_id: string;
  amount_cents: number;
  currency: string;
  reason: string;
  idempotency_key: string;
  created_at: string;
}

const refundableCents = (r: InvoiceRow): number => (r.status === 'paid' ? r.amount_cents - r.refunded_cents : 0);
const toInvoice = (r: InvoiceRow): Invoice => ({
  invoiceId: r.invoice_id,
  accountId: r.account_id,
  amount: fromCents(r.amount_cents),
  currency: r.currency,
  status: r.status,
  issuedAt: r.issued_at,
  paidAt: r.paid_at,
  refundedAmount: fromCents(r.refunded_cents),
  refundableAmount: fromCents(refundableCents(r)),
});
const toRefund = (r: RefundRow): Refund => ({
  refundId: r.refund_id,
  invoiceId: r.invoice_id,
  amount: fromCents(r.amount_cents),
  currency: r.currency,
  reason: r.reason,
  idempotencyKey: r.idempotency_key,
  createdAt: r.created_at,
});

export interface BillingServerOptions {
  /** Hold each new refund this long after it is committed, before answering (crash tests kill the caller meanwhile). */
  refundDelayMs?: number;
}

/** The billing system's MCP server over `db` (from `openBillingDb`). */
export function createBillingServer(db: Db, opts: BillingServerOptions = {}): McpServer {
  const server = new McpServer({ name: 'demo-billing', version: '1.0.0' });
  const invoiceById = db.prepare<[string], InvoiceRow>('SELECT * FROM invoices WHERE invoice_id = ?');
  const invoicesOf = db.prepare<{ accountId: string; status: string | null }, InvoiceRow>(
    'SELECT * FROM invoices WHERE account_id = :accountId AND (:status IS NULL OR status = :status) ORDER BY invoice_id',
  );
  const refundByKey = db.prepare<[string], RefundRow>('SELECT * FROM refunds WHERE idempotency_key = ?');
  const refundById = db.prepare<[string], RefundRow>('SELECT * FROM refunds WHERE refund_id = ?');
  const refundsWhere = db.prepare<{ invoiceId: string | null; accountId: string | null }, RefundRow>(
    `SELECT r.* FROM refunds r JOIN invoices i USING (invoice_id)
     WHERE (:invoiceId IS NULL OR r.invoice_id = :invoiceId) AND (:accountId IS NULL OR i.account_id = :accountId)
     ORDER BY r.refund_id`,
  );
  const insertRefund = db.prepare('INSERT INTO refunds (refund_id, invoice_id, amount_cents, currency, reason, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const addRefunded = db.prepare('UPDATE invoices SET refunded_cents = refunded_cents + ? WHERE invoice_id = ?');

  server.registerTool(
    'get_invoice',
    {
      title: 'Get invoice',
      description: 'Returns an invoice: amount, currency, status, and how much has been and can still be refunded.',
      inputSchema: { invoiceId: InvoiceId },
      outputSchema: Invoice.shape,
      annotations: READ_ONLY,
    },
    ({ invoiceId }) => {
      const row = invoiceById.get(invoiceId);
      return row ? jsonResult(toInvoice(row)) : errorResult(`invoice ${invoiceId} not found`);
    },
  );

  server.registerTool(
    'list_invoices',
    {
      title: 'List invoices',
      description: "Lists a customer account's invoices, optionally only those with the given status.",
      inputSchema: { accountId: AccountId, status: z.enum(INVOICE_STATUSES).optional() },
      outputSchema: { invoices: z.array(Invoice) },
      annotations: READ_ONLY,
    },
    ({ accountId, status }) => jsonResult({ invoices: invoicesOf.all({ accountId, status: status ?? null }).map(toInvoice) }),
  );

  /** Checks and records a refund atomically; a known idempotency key answers with its refund instead. */
  const refund = (a: { invoiceId: string; cents: number; currency: string; reason: string; idempotencyKey: string }) =>
    writeTransaction(db, () => {
      const previous = refundByKey.get(a.idempotencyKey);
      if (previous) {
        if (previous.invoice_id !== a.invoiceId || previous.amount_cents !== a.cents || previous.currency !== a.currency) {
          return `idempotency key "${a.idempotencyKey}" was already used for a refund of ${fromCents(previous.amount_cents)} ${previous.currency} on ${previous.invoice_id}`;
        }
        return { refund: toRefund(previous), replayed: true };
      }
      const invoice = invoiceById.get(a.invoiceId);
      if (!invoice) return `invoice ${a.invoiceId} not found`;
      if (invoice.status !== 'paid') return `invoice ${a.invoiceId} is ${invoice.status}; only paid invoices can be refunded`;
      if (invoice.currency !== a.currency) return `currency ${a.currency} does not match invoice ${a.invoiceId}, which is in ${invoice.currency}`;
      const left = refundableCents(invoice);
      if (a.cents > left) return `refund of ${fromCents(a.cents)} ${a.currency} exceeds the ${fromCents(left)} ${a.currency} still refundable on ${a.invoiceId}`;
      const refundId = nextId(db, 'refunds', 'refund_id', 'R-', 9001);
      insertRefund.run(refundId, a.invoiceId, a.cents, a.currency, a.reason, a.idempotencyKey, nowIso());
      addRefunded.run(a.cents, a.invoiceId);
      return { refund: toRefund(refundById.get(refundId)!), replayed: false };
    });

  server.registerTool(
    'issue_refund',
    {
      title: 'Issue refund',
      description:
        'Refunds part or all of a paid invoice back to the customer. Money leaves the company, so this is destructive. ' +
        'Idempotent per idempotencyKey: repeating a call with the same key returns the original refund (replayed: true) and moves no money.',
      inputSchema: {
        invoiceId: InvoiceId,
        amount: Money.positive(),
        currency: Currency,
        reason: z.string().min(1).max(4000),
        idempotencyKey: z.string().min(1).max(200).describe('Unique per intended refund; reuse it when retrying'),
      },
      outputSchema: { ...Refund.shape, replayed: z.boolean().describe('True when this key had already been used: nothing new was refunded') },
      annotations: writes({ destructive: true, idempotent: true }),
    },
    async ({ invoiceId, amount, currency, reason, idempotencyKey }) => {
      const cents = toCents(amount);
      if (cents === undefined || cents <= 0) return errorResult(`amount ${amount} must be positive with at most 2 decimals`);
      const outcome = refund({ invoiceId, cents, currency: currency.toUpperCase(), reason, idempotencyKey });
      if (typeof outcome === 'string') return errorResult(outcome);
      if (!outcome.replayed && opts.refundDelayMs) await sleep(opts.refundDelayMs);
      return jsonResult({ ...outcome.refund, replayed: outcome.replayed });
    },
  );

  server.registerTool(
    'list_refunds',
    {
      title: 'List refunds',
      description: 'Lists refunds, optionally only those of one invoice and/or one customer account.',
      inputSchema: { invoiceId: InvoiceId.optional(), accountId: AccountId.optional() },
      outputSchema: { refunds: z.array(Refund) },
      annotations: READ_ONLY,
    },
    ({ invoiceId, accountId }) => jsonResult({ refunds: refundsWhere.all({ invoiceId: invoiceId ?? null, accountId: accountId ?? null }).map(toRefund) }),
  );

  return server;
}
