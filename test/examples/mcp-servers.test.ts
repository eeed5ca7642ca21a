// The demo business systems (CRM, ticketing, billing) as MCP servers: business rules in process,
// then the real stdio and Streamable HTTP transports, and two processes sharing one billing file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectSocket, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { openSystem, startHttpServer, type DemoSystem } from '../../examples/mcp/serve.js';
import { ServerSchema } from '../../src/config/schema.js';
import { startDemoServers } from '../../src/mcp/demo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'airlock-demo-mcp-'));
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});
let files = 0;
const freshDb = (name: string) => join(dir, `${name}-${++files}.db`);

// Tool results are checked field by field; their shapes are the servers' output schemas.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field, asserted by the test
type Json = any;

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** A client connected in process to a fresh copy of `system`. */
async function inMemory(system: DemoSystem): Promise<Client> {
  const handle = openSystem({ system, db: freshDb(system) });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = handle.createServer();
  await server.connect(serverSide);
  const client = await connect(clientSide);
  cleanups.push(async () => {
    await client.close();
    handle.close();
  });
  return client;
}

const stdioBilling = (dbPath: string) =>
  connect(new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', 'examples/mcp/serve.ts', 'billing', '--db', dbPath], cwd: ROOT, stderr: 'pipe' }));

const text = (r: CallToolResult) => (r.content[0]?.type === 'text' ? r.content[0].text : '');

/** Calls a tool that must succeed; returns its structured content (which the text content mirrors). */
async function ok(client: Client, name: string, args: Record<string, unknown>): Promise<Json> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  assert.notEqual(r.isError, true, `${name} failed: ${text(r)}`);
  assert.deepEqual(JSON.parse(text(r)), r.structuredContent);
  return r.structuredContent;
}

/** Calls a tool that must fail as a tool result (not a protocol error); returns the message. */
async function fails(client: Client, name: string, args: Record<string, unknown>, pattern: RegExp): Promise<void> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  assert.equal(r.isError, true, `${name} should fail: ${JSON.stringify(r.structuredContent)}`);
  assert.match(text(r), pattern);
}

const RO = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const write = (destructiveHint: boolean, idempotentHint: boolean) => ({ readOnlyHint: false, destructiveHint, idempotentHint, openWorldHint: false });
const EXPECTED_TOOLS: Record<DemoSystem, Record<string, object>> = {
  crm: { get_account: RO, search_accounts: RO, add_note: write(false, false) },
  ticketing: { create_ticket: write(false, false), update_ticket: write(false, false), get_ticket: RO },
  billing: { get_invoice: RO, list_invoices: RO, issue_refund: write(true, true), list_refunds: RO },
};

describe('tool metadata', () => {
  for (const [system, expected] of Object.entries(EXPECTED_TOOLS) as Array<[DemoSystem, Record<string, object>]>) {
    test(`${system}: exactly the specified tools, with titles, schemas and honest annotations`, async () => {
      const { tools } = await (await inMemory(system)).listTools();
      assert.deepEqual(Object.fromEntries(tools.map((t) => [t.name, t.annotations])), expected);
      for (const t of tools) {
        assert.ok(t.title && t.description, `${t.name} has a title and a description`);
        assert.equal(t.inputSchema.type, 'object');
        assert.equal(t.outputSchema?.type, 'object', `${t.name} has an output schema`);
      }
    });
  }
});

// Each test opens its own copy of the system, so what it counts is what it (and the seed) created.
describe('crm', () => {
  test('seeded accounts, contacts and search', async () => {
    const crm = await inMemory('crm');
    const acme = await ok(crm, 'get_account', { accountId: 'C-1001' });
    assert.equal(acme.name, 'Acme Corp');
    assert.equal(acme.domain, 'acme.example');
    assert.equal(acme.industry, 'Manufacturing');
    assert.equal(acme.contacts.length, 2);
    for (const [id, name] of [
      ['C-1002', 'Globex'],
      ['C-1003', 'Initech'],
      ['C-1004', 'Umbrella Health'],
    ]) {
      assert.equal((await ok(crm, 'get_account', { accountId: id })).name, name);
    }
    const ids = async (query: string) => (await ok(crm, 'search_accounts', { query })).accounts.map((a: Json) => a.accountId);
    assert.deepEqual(await ids('ACME'), ['C-1001']);
    assert.deepEqual(await ids('healthcare'), ['C-1004']);
    assert.deepEqual(await ids('globex.EXAMPLE'), ['C-1002']);
    assert.deepEqual(await ids('%'), [], 'LIKE wildcards in the query are literal');
    assert.equal((await ok(crm, 'search_accounts', { query: 'example', limit: 2 })).accounts.length, 2);
    await fails(crm, 'get_account', { accountId: 'C-9999' }, /not found/);
  });

  test('add_note appends a note that get_account then shows', async () => {
    const crm = await inMemory('crm');
    const note = await ok(crm, 'add_note', { accountId: 'C-1002', body: 'Asked about the refund policy.', author: 'tester' });
    assert.match(note.noteId, /^N-\d+$/);
    assert.equal(note.accountId, 'C-1002');
    const second = await ok(crm, 'add_note', { accountId: 'C-1002', body: 'Follow-up call booked.' });
    assert.notEqual(second.noteId, note.noteId);
    assert.equal(second.author, 'agent');
    const notes = (await ok(crm, 'get_account', { accountId: 'C-1002' })).notes;
    assert.deepEqual(
      notes.map((n: Json) => n.body),
      ['Asked about the refund policy.', 'Follow-up call booked.'],
    );
    await fails(crm, 'add_note', { accountId: 'C-4040', body: 'x' }, /not found/);
  });
});

describe('ticketing', () => {
  test('create, update and get a ticket', async () => {
    const desk = await inMemory('ticketing');
    const seeded = await ok(desk, 'get_ticket', { ticketId: 'T-5001' });
    assert.equal(seeded.accountId, 'C-1002');
    const t = await ok(desk, 'create_ticket', { accountId: 'C-1001', subject: 'Refund request for INV-2001', body: 'Double charged.' });
    assert.match(t.ticketId, /^T-\d+$/);
    assert.ok(Number(t.ticketId.slice(2)) > 5002, 'ids continue after the seeded tickets');
    assert.deepEqual([t.status, t.priority, t.comments], ['open', 'normal', []]);
    const next = await ok(desk, 'create_ticket', { accountId: 'C-1001', subject: 's', body: 'b', priority: 'urgent' });
    assert.equal(Number(next.ticketId.slice(2)), Number(t.ticketId.slice(2)) + 1);
    assert.equal(next.priority, 'urgent');

    const updated = await ok(desk, 'update_ticket', { ticketId: t.ticketId, status: 'resolved', comment: 'Refund R-9001 issued.' });
    assert.equal(updated.status, 'resolved');
    assert.equal(updated.priority, 'normal', 'unchanged fields stay');
    assert.deepEqual(
      updated.comments.map((c: Json) => c.body),
      ['Refund R-9001 issued.'],
    );
    assert.deepEqual(await ok(desk, 'get_ticket', { ticketId: t.ticketId }), updated);

    await fails(desk, 'update_ticket', { ticketId: t.ticketId }, /nothing to update/);
    await fails(desk, 'update_ticket', { ticketId: 'T-1', status: 'closed' }, /not found/);
    await fails(desk, 'get_ticket', { ticketId: 'T-1' }, /not found/);
  });
});

describe('billing', () => {
  const refund = (invoiceId: string, amount: number, idempotencyKey: string, currency = 'USD') => ({ invoiceId, amount, currency, reason: 'test', idempotencyKey });

  test('seeded invoices: INV-2001 is 1250.00 USD, paid, for C-1001', async () => {
    const billing = await inMemory('billing');
    const inv = await ok(billing, 'get_invoice', { invoiceId: 'INV-2001' });
    assert.deepEqual([inv.accountId, inv.amount, inv.currency, inv.status, inv.refundedAmount, inv.refundableAmount], ['C-1001', 1250, 'USD', 'paid', 0, 1250]);
    const acme = (await ok(billing, 'list_invoices', { accountId: 'C-1001' })).invoices;
    assert.deepEqual(
      acme.map((i: Json) => [i.invoiceId, i.amount]),
      [
        ['INV-2001', 1250],
        ['INV-2005', 5000],
        ['INV-2006', 20000],
      ],
    );
    const open = (await ok(billing, 'list_invoices', { accountId: 'C-1002', status: 'open' })).invoices;
    assert.deepEqual(
      open.map((i: Json) => [i.status, i.paidAt, i.refundableAmount]),
      [['open', null, 0]],
    );
    assert.deepEqual((await ok(billing, 'list_refunds', {})).refunds, [], 'no refunds are seeded');
    await fails(billing, 'get_invoice', { invoiceId: 'INV-9999' }, /not found/);
  });

  test('the same idempotency key refunds once; a second call replays it', async () => {
    const billing = await inMemory('billing');
    const first = await ok(billing, 'issue_refund', refund('INV-2002', 100.5, 'key-1'));
    assert.match(first.refundId, /^R-\d+$/);
    assert.deepEqual([first.amount, first.currency, first.replayed], [100.5, 'USD', false]);
    const again = await ok(billing, 'issue_refund', refund('INV-2002', 100.5, 'key-1'));
    assert.deepEqual(again, { ...first, replayed: true });
    assert.equal((await ok(billing, 'list_refunds', { invoiceId: 'INV-2002' })).refunds.length, 1);
    assert.equal((await ok(billing, 'list_refunds', { accountId: 'C-1002' })).refunds.length, 1);
    assert.equal((await ok(billing, 'get_invoice', { invoiceId: 'INV-2002' })).refundedAmount, 100.5);
    await fails(billing, 'issue_refund', refund('INV-2002', 99, 'key-1'), /already used/);
    await fails(billing, 'issue_refund', refund('INV-2003', 100.5, 'key-1'), /already used/);
  });

  test('refund rules: amount within what is left, matching currency, paid invoices only', async () => {
    const billing = await inMemory('billing');
    await fails(billing, 'issue_refund', refund('INV-2002', 480.01, 'whole'), /exceeds the 480 USD still refundable/);
    await ok(billing, 'issue_refund', refund('INV-2002', 100.5, 'part'));
    await fails(billing, 'issue_refund', refund('INV-2002', 379.51, 'over'), /exceeds the 379.5 USD still refundable/);
    await fails(billing, 'issue_refund', refund('INV-2003', 10, 'eur', 'EUR'), /currency EUR does not match/);
    await fails(billing, 'issue_refund', refund('INV-2007', 10, 'unpaid'), /only paid invoices/);
    await fails(billing, 'issue_refund', refund('INV-2003', 10.005, 'cents'), /at most 2 decimals/);
    await fails(billing, 'issue_refund', refund('INV-2003', 0, 'zero'), /amount/);
    await fails(billing, 'issue_refund', refund('INV-404', 10, 'missing'), /not found/);
    const rest = await ok(billing, 'issue_refund', refund('INV-2002', 379.5, 'rest', 'usd'));
    assert.equal(rest.currency, 'USD');
    assert.equal((await ok(billing, 'get_invoice', { invoiceId: 'INV-2002' })).refundableAmount, 0);
    await fails(billing, 'issue_refund', refund('INV-2002', 0.01, 'one-more'), /exceeds/);
    assert.equal((await ok(billing, 'list_refunds', { invoiceId: 'INV-2002' })).refunds.length, 2);
  });
});

describe('real transports', () => {
  test('stdio: the CLI serves billing to a spawned-process client', async () => {
    const client = await stdioBilling(freshDb('stdio'));
    try {
      assert.equal((await client.listTools()).tools.length, 4);
      const inv = await ok(client, 'get_invoice', { invoiceId: 'INV-2001' });
      assert.deepEqual([inv.amount, inv.currency, inv.status], [1250, 'USD', 'paid']);
    } finally {
      await client.close();
    }
  });

  test('stdio: writes nothing to stdout unprompted; on stdin EOF closes the database and exits 0', async () => {
    const dbPath = freshDb('eof');
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/mcp/serve.ts', 'crm', '--db', dbPath], { cwd: ROOT, stdio: 'pipe' });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stdin.end();
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.equal(stdout, '');
    assert.ok(existsSync(dbPath), 'the database was created');
    assert.ok(!existsSync(`${dbPath}-wal`), 'a cleanly closed database leaves no WAL file behind');
  });

  // The timeout only keeps a regression (close() waiting on the stalled client) from hanging the suite.
  test('Streamable HTTP: sessions share the database; close() ends sessions and drops open connections', { timeout: 30_000 }, async () => {
    const rpcHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const TOOLS_LIST = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
    const srv = await startHttpServer({ system: 'ticketing', dbPath: freshDb('http'), port: 0 });
    let stalled: Socket | undefined;
    try {
      assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const a = await connect(new StreamableHTTPClientTransport(new URL(srv.url)));
      const b = await connect(new StreamableHTTPClientTransport(new URL(srv.url)));
      const t = await ok(a, 'create_ticket', { accountId: 'C-1003', subject: 'Over HTTP', body: 'b', priority: 'high' });
      assert.equal((await ok(b, 'get_ticket', { ticketId: t.ticketId })).subject, 'Over HTTP');
      const noSession = await fetch(srv.url, { method: 'POST', headers: rpcHeaders, body: TOOLS_LIST });
      assert.equal(noSession.status, 400);
      const ended = (a.transport as StreamableHTTPClientTransport).sessionId!;
      await (a.transport as StreamableHTTPClientTransport).terminateSession();
      await a.close();
      const afterDelete = await fetch(srv.url, { method: 'POST', headers: { ...rpcHeaders, 'mcp-session-id': ended }, body: TOOLS_LIST });
      assert.equal(afterDelete.status, 404, 'DELETE ended the session');
      stalled = connectSocket(Number(new URL(srv.url).port), '127.0.0.1').on('error', () => {});
      stalled.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished: not an idle connection
      await once(stalled, 'connect');
      const socket = stalled;
      const dropped = new Promise((dropped) => socket.once('close', dropped)); // after an ECONNRESET 'error', which once() would throw
      await srv.close();
      await dropped; // close() ended the half-sent request's connection instead of waiting for it
      await assert.rejects(b.callTool({ name: 'get_ticket', arguments: { ticketId: t.ticketId } }));
      await b.close();
    } finally {
      stalled?.destroy();
      await srv.close();
    }
  });

  test('two processes on one billing file see each other and cannot double-refund', async () => {
    const dbPath = freshDb('shared');
    const [p1, p2] = await Promise.all([stdioBilling(dbPath), stdioBilling(dbPath)]);
    try {
      const r = await ok(p1, 'issue_refund', { invoiceId: 'INV-2003', amount: 700, currency: 'USD', reason: 'r', idempotencyKey: 'shared-1' });
      const seen = (await ok(p2, 'list_refunds', { invoiceId: 'INV-2003' })).refunds;
      assert.deepEqual(
        seen.map((x: Json) => x.refundId),
        [r.refundId],
      );
      assert.equal((await ok(p2, 'issue_refund', { invoiceId: 'INV-2003', amount: 700, currency: 'USD', reason: 'r', idempotencyKey: 'shared-1' })).replayed, true);

      // Racing the same new key from both processes: one refund, one replay.
      const same = { invoiceId: 'INV-2004', amount: 25000, currency: 'USD', reason: 'race', idempotencyKey: 'race-1' };
      const raced = await Promise.all([ok(p1, 'issue_refund', same), ok(p2, 'issue_refund', same)]);
      assert.deepEqual(raced.map((x) => x.replayed).sort(), [false, true]);
      // Racing different keys for more than is left: exactly one wins.
      const results = await Promise.all(
        [p1, p2].map((c, i) => c.callTool({ name: 'issue_refund', arguments: { invoiceId: 'INV-2002', amount: 300, currency: 'USD', reason: 'race', idempotencyKey: `race-${i + 2}` } })),
      );
      assert.deepEqual(results.map((x) => x.isError === true).sort(), [false, true]);
      assert.equal((await ok(p1, 'list_refunds', {})).refunds.length, 3);
    } finally {
      await Promise.all([p1.close(), p2.close()]);
    }
  });
});

describe('servers.<id>.demo: the system comes from the configured module', () => {
  const MODULE = join(ROOT, 'examples', 'mcp', 'serve.ts');
  const demoServer = (url: string, demo: Record<string, string>) => ({
    t: ServerSchema.parse({ transport: 'http', url, allowPrivateNetwork: true, demo }),
  });

  test('Airlock imports demo.module, opens the named system on demo.db and serves it at the URL; close() closes the database', async () => {
    const db = join(dir, 'configured', 'ticketing.db'); // its directory does not exist yet
    const demo = await startDemoServers(demoServer('http://127.0.0.1:0/mcp', { module: MODULE, system: 'ticketing', db }));
    try {
      assert.equal(demo.started.length, 1);
      const client = await connect(new StreamableHTTPClientTransport(new URL(demo.started[0]!.url)));
      const t = await ok(client, 'create_ticket', { accountId: 'C-1001', subject: 'Configured', body: 'b' });
      assert.equal((await ok(client, 'get_ticket', { ticketId: t.ticketId })).subject, 'Configured');
      await client.close();

      // A port already served: an error for `airlock start`; for the registry CLI, the running server is used.
      const taken = demoServer(demo.started[0]!.url, { module: MODULE, system: 'ticketing', db: freshDb('taken') });
      await assert.rejects(startDemoServers(taken), { code: 'EADDRINUSE' });
      const reused = await startDemoServers(taken, { reuseRunning: true });
      assert.deepEqual(reused.started, []);
      await reused.close();
    } finally {
      await demo.close();
    }
    assert.ok(existsSync(db));
    assert.ok(!existsSync(`${db}-wal`), 'close() closed the database cleanly');
  });

  test('a module without openSystem, and a system the module does not have, stop start-up with the reason', async () => {
    const noExport = join(dir, 'no-export.mjs');
    writeFileSync(noExport, 'export const system = 1;\n');
    await assert.rejects(startDemoServers(demoServer('http://127.0.0.1:0/mcp', { module: noExport, system: 'ticketing', db: freshDb('x') })), /does not export a function openSystem/);
    await assert.rejects(startDemoServers(demoServer('http://127.0.0.1:0/mcp', { module: MODULE, system: 'erp', db: freshDb('erp') })), /unknown demo system "erp"/);
  });
});
