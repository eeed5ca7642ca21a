// Demo ticketing (support desk): tickets per customer account, each with a comment thread.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { AccountId, errorResult, jsonResult, nextId, nowIso, openDatabase, READ_ONLY, sqlList, writes, writeTransaction, type Db } from './common.js';

const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const STATUSES = ['open', 'pending', 'resolved', 'closed'] as const;

const SCHEMA = `
CREATE TABLE tickets (
  ticket_id  TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  subject    TEXT NOT NULL,
  body       TEXT NOT NULL,
  priority   TEXT NOT NULL CHECK (priority IN (${sqlList(PRIORITIES)})),
  status     TEXT NOT NULL CHECK (status IN (${sqlList(STATUSES)})),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE ticket_comments (
  comment_id INTEGER PRIMARY KEY,
  ticket_id  TEXT NOT NULL REFERENCES tickets(ticket_id),
  body       TEXT NOT NULL,
  author     TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX tickets_by_account ON tickets(account_id);
CREATE INDEX comments_by_ticket ON ticket_comments(ticket_id, comment_id);
`;

function seed(db: Db): void {
  const ticket = db.prepare('INSERT INTO tickets (ticket_id, account_id, subject, body, priority, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const comment = db.prepare('INSERT INTO ticket_comments (ticket_id, body, author, created_at) VALUES (?, ?, ?, ?)');
  ticket.run(
    'T-5001',
    'C-1002',
    'Cannot download March invoice PDF',
    'The billing portal returns an error when downloading the March invoice.',
    'normal',
    'resolved',
    '2025-03-04T09:12:00.000Z',
    '2025-03-05T14:30:00.000Z',
  );
  comment.run('T-5001', 'Regenerated the PDF and emailed it to the customer.', 'support.sam', '2025-03-05T14:30:00.000Z');
  ticket.run(
    'T-5002',
    'C-1003',
    'SSO login loop for new users',
    'Users provisioned this week are redirected back to the login page.',
    'high',
    'open',
    '2025-03-10T08:45:00.000Z',
    '2025-03-10T08:45:00.000Z',
  );
}

/** Opens the ticketing database at `path`, creating and seeding it on first use. */
export function openTicketingDb(path: string): Db {
  return openDatabase(path, SCHEMA, seed);
}

const TicketId = z
  .string()
  .regex(/^T-\d+$/)
  .describe('Ticket id, e.g. "T-5001"');
const Comment = z.object({ body: z.string(), author: z.string(), createdAt: z.string() });
const Ticket = z.object({
  ticketId: z.string(),
  accountId: z.string(),
  subject: z.string(),
  body: z.string(),
  priority: z.enum(PRIORITIES),
  status: z.enum(STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  comments: z.array(Comment).describe('Oldest first'),
});
type Ticket = z.infer<typeof Ticket>;

/** The ticketing system's MCP server over `db` (from `openTicketingDb`). */
export function createTicketingServer(db: Db): McpServer {
  const server = new McpServer({ name: 'demo-ticketing', version: '1.0.0' });
  const findTicket = db.prepare<[string], Omit<Ticket, 'comments'>>(
    `SELECT ticket_id AS ticketId, account_id AS accountId, subject, body, priority, status, created_at AS createdAt, updated_at AS updatedAt
     FROM tickets WHERE ticket_id = ?`,
  );
  const commentsOf = db.prepare<[string], z.infer<typeof Comment>>('SELECT body, author, created_at AS createdAt FROM ticket_comments WHERE ticket_id = ? ORDER BY comment_id');
  const insertTicket = db.prepare('INSERT INTO tickets (ticket_id, account_id, subject, body, priority, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const updateTicket = db.prepare('UPDATE tickets SET status = coalesce(?, status), priority = coalesce(?, priority), updated_at = ? WHERE ticket_id = ?');
  const insertComment = db.prepare('INSERT INTO ticket_comments (ticket_id, body, author, created_at) VALUES (?, ?, ?, ?)');

  const loadTicket = (ticketId: string): Ticket | undefined => {
    const ticket = findTicket.get(ticketId);
    return ticket && { ...ticket, comments: commentsOf.all(ticketId) };
  };

  server.registerTool(
    'create_ticket',
    {
      title: 'Create ticket',
      description: 'Opens a new support ticket for a customer account and returns it. Each call creates a new ticket.',
      inputSchema: {
        accountId: AccountId,
        subject: z.string().min(1).max(200),
        body: z.string().min(1).max(8000),
        priority: z.enum(PRIORITIES).default('normal'),
      },
      outputSchema: Ticket.shape,
      annotations: writes({ destructive: false, idempotent: false }),
    },
    ({ accountId, subject, body, priority }) =>
      writeTransaction(db, () => {
        const ticketId = nextId(db, 'tickets', 'ticket_id', 'T-', 5001);
        const now = nowIso();
        insertTicket.run(ticketId, accountId, subject, body, priority, 'open', now, now);
        return jsonResult(loadTicket(ticketId)!);
      }),
  );

  server.registerTool(
    'update_ticket',
    {
      title: 'Update ticket',
      description: 'Changes the status and/or priority of a ticket and/or adds a comment; at least one is required. Returns the updated ticket.',
      inputSchema: {
        ticketId: TicketId,
        status: z.enum(STATUSES).optional(),
        priority: z.enum(PRIORITIES).optional(),
        comment: z.string().min(1).max(8000).optional().describe('Appended to the thread; each call adds a new comment'),
        author: z.string().min(1).max(100).default('agent').describe('Who made the change'),
      },
      outputSchema: Ticket.shape,
      annotations: writes({ destructive: false, idempotent: false }),
    },
    ({ ticketId, status, priority, comment, author }) => {
      if (status === undefined && priority === undefined && comment === undefined) {
        return errorResult('nothing to update: give status, priority or comment');
      }
      return writeTransaction(db, () => {
        if (!findTicket.get(ticketId)) return errorResult(`ticket ${ticketId} not found`);
        const now = nowIso();
        updateTicket.run(status ?? null, priority ?? null, now, ticketId);
        if (comment !== undefined) insertComment.run(ticketId, comment, author, now);
        return jsonResult(loadTicket(ticketId)!);
      });
    },
  );

  server.registerTool(
    'get_ticket',
    {
      title: 'Get ticket',
      description: 'Returns a support ticket with its comment thread.',
      inputSchema: { ticketId: TicketId },
      outputSchema: Ticket.shape,
      annotations: READ_ONLY,
    },
    ({ ticketId }) => {
      const ticket = loadTicket(ticketId);
      return ticket ? jsonResult(ticket) : errorResult(`ticket ${ticketId} not found`);
    },
  );

  return server;
}
