// Demo CRM: accounts with their contacts and a timeline of notes.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { AccountId, errorResult, jsonResult, nextId, nowIso, openDatabase, READ_ONLY, sqlList, writes, writeTransaction, type Db } from './common.js';

const TIERS = ['enterprise', 'mid-market', 'smb'] as const;

const SCHEMA = `
CREATE TABLE accounts (
  account_id TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  domain     TEXT NOT NULL UNIQUE,
  industry   TEXT NOT NULL,
  tier       TEXT NOT NULL CHECK (tier IN (${sqlList(TIERS)})),
  owner      TEXT NOT NULL
);
CREATE TABLE contacts (
  contact_id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(account_id),
  name       TEXT NOT NULL,
  email      TEXT NOT NULL,
  role       TEXT NOT NULL
);
CREATE TABLE notes (
  note_id    TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(account_id),
  body       TEXT NOT NULL,
  author     TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX contacts_by_account ON contacts(account_id);
CREATE INDEX notes_by_account ON notes(account_id, created_at);
`;

const ACCOUNTS = [
  ['C-1001', 'Acme Corp', 'acme.example', 'Manufacturing', 'enterprise', 'dana.whitfield'],
  ['C-1002', 'Globex', 'globex.example', 'Logistics', 'mid-market', 'marcus.lee'],
  ['C-1003', 'Initech', 'initech.example', 'Software', 'mid-market', 'dana.whitfield'],
  ['C-1004', 'Umbrella Health', 'umbrella-health.example', 'Healthcare', 'enterprise', 'priya.raman'],
];
const CONTACTS = [
  ['C-1001', 'Wile E. Coyote', 'wile.coyote@acme.example', 'VP Operations'],
  ['C-1001', 'Roberta Runner', 'roberta.runner@acme.example', 'Accounts Payable Manager'],
  ['C-1002', 'Hank Scorpio', 'hank@globex.example', 'CEO'],
  ['C-1003', 'Bill Lumbergh', 'bill.lumbergh@initech.example', 'Division VP'],
  ['C-1003', 'Milton Waddams', 'milton@initech.example', 'Procurement'],
  ['C-1004', 'Alice Abernathy', 'alice.abernathy@umbrella-health.example', 'CFO'],
];
const NOTES = [
  ['N-3001', 'C-1001', 'Renewal signed for 2025; asked about volume discounts on Q3 orders.', 'dana.whitfield', '2025-01-14T16:20:00.000Z'],
  ['N-3002', 'C-1004', 'Security review passed; SSO rollout planned for March.', 'priya.raman', '2025-02-03T10:05:00.000Z'],
];

function seed(db: Db): void {
  const account = db.prepare('INSERT INTO accounts (account_id, name, domain, industry, tier, owner) VALUES (?, ?, ?, ?, ?, ?)');
  const contact = db.prepare('INSERT INTO contacts (account_id, name, email, role) VALUES (?, ?, ?, ?)');
  const note = db.prepare('INSERT INTO notes (note_id, account_id, body, author, created_at) VALUES (?, ?, ?, ?, ?)');
  for (const row of ACCOUNTS) account.run(row);
  for (const row of CONTACTS) contact.run(row);
  for (const row of NOTES) note.run(row);
}

/** Opens the CRM database at `path`, creating and seeding it on first use. */
export function openCrmDb(path: string): Db {
  return openDatabase(path, SCHEMA, seed);
}

const Account = z.object({
  accountId: z.string(),
  name: z.string(),
  domain: z.string(),
  industry: z.string(),
  tier: z.enum(TIERS),
  owner: z.string().describe('Account executive who owns the relationship'),
});
const Contact = z.object({ name: z.string(), email: z.string(), role: z.string() });
const Note = z.object({ noteId: z.string(), accountId: z.string(), body: z.string(), author: z.string(), createdAt: z.string() });
type Account = z.infer<typeof Account>;
type Note = z.infer<typeof Note>;

const ACCOUNT_COLUMNS = 'account_id AS accountId, name, domain, industry, tier, owner';
const NOTE_COLUMNS = 'note_id AS noteId, account_id AS accountId, body, author, created_at AS createdAt';

/** The CRM's MCP server over `db` (from `openCrmDb`). */
export function createCrmServer(db: Db): McpServer {
  const server = new McpServer({ name: 'demo-crm', version: '1.0.0' });
  const findAccount = db.prepare<[string], Account>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE account_id = ?`);
  const contactsOf = db.prepare<[string], z.infer<typeof Contact>>('SELECT name, email, role FROM contacts WHERE account_id = ? ORDER BY contact_id');
  const notesOf = db.prepare<[string], Note>(`SELECT ${NOTE_COLUMNS} FROM notes WHERE account_id = ? ORDER BY created_at, note_id`);
  const search = db.prepare<[string, string, string, number], Account>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts
     WHERE name LIKE ? ESCAPE '\\' OR domain LIKE ? ESCAPE '\\' OR industry LIKE ? ESCAPE '\\'
     ORDER BY account_id LIMIT ?`,
  );
  const insertNote = db.prepare('INSERT INTO notes (note_id, account_id, body, author, created_at) VALUES (?, ?, ?, ?, ?)');

  server.registerTool(
    'get_account',
    {
      title: 'Get account',
      description: 'Returns a customer account with its contacts and its notes (oldest first).',
      inputSchema: { accountId: AccountId },
      outputSchema: { ...Account.shape, contacts: z.array(Contact), notes: z.array(Note) },
      annotations: READ_ONLY,
    },
    ({ accountId }) => {
      const account = findAccount.get(accountId);
      if (!account) return errorResult(`account ${accountId} not found`);
      return jsonResult({ ...account, contacts: contactsOf.all(accountId), notes: notesOf.all(accountId) });
    },
  );

  server.registerTool(
    'search_accounts',
    {
      title: 'Search accounts',
      description: 'Finds accounts whose name, domain or industry contains the query (case-insensitive).',
      inputSchema: {
        query: z.string().min(1).max(200),
        limit: z.number().int().min(1).max(50).default(10).describe('Maximum number of accounts to return'),
      },
      outputSchema: { accounts: z.array(Account) },
      annotations: READ_ONLY,
    },
    ({ query, limit }) => {
      const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      return jsonResult({ accounts: search.all(pattern, pattern, pattern, limit) });
    },
  );

  server.registerTool(
    'add_note',
    {
      title: 'Add account note',
      description: "Appends a note to an account's timeline and returns it. Each call adds a new note.",
      inputSchema: {
        accountId: AccountId,
        body: z.string().min(1).max(4000),
        author: z.string().min(1).max(100).default('agent').describe('Who wrote the note'),
      },
      outputSchema: Note.shape,
      annotations: writes({ destructive: false, idempotent: false }),
    },
    ({ accountId, body, author }) =>
      writeTransaction(db, () => {
        if (!findAccount.get(accountId)) return errorResult(`account ${accountId} not found`);
        const note: Note = { noteId: nextId(db, 'notes', 'note_id', 'N-', 3001), accountId, body, author, createdAt: nowIso() };
        insertNote.run(note.noteId, note.accountId, note.body, note.author, note.createdAt);
        return jsonResult(note);
      }),
  );

  return server;
}
