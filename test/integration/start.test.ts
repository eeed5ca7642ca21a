// `airlock start` as users run it: a process that brings up the dev server, demo servers, worker and
// API, answers /readyz, and stops everything on Ctrl-C; and one that cannot start says why and leaves
// no Temporal server behind.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawnNode } from '../helpers/process.js';
import { freePort, testEnv, waitFor } from '../helpers/stack.js';

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

describe('airlock start', () => {
  test('comes up ready, and Ctrl-C stops the API and the Temporal dev server', async () => {
    const [apiPort, temporalPort] = [await freePort(), await freePort()];
    const env = await testEnv({ temporalPort, env: { AIRLOCK_API_PORT: String(apiPort) } });
    const proc = spawnNode(['--import', 'tsx', 'src/cli/main.ts', 'start'], env);
    try {
      await waitFor(
        () => fetch(`http://127.0.0.1:${apiPort}/readyz`).then((r) => r.status),
        (st) => st === 200,
        90_000,
        '/readyz',
      );
      assert.ok(await listening(temporalPort), 'the dev server answers on its configured port');
      assert.match(proc.output(), /Airlock is running/);
      // The demo ticketing system (`servers.ticketing.demo`) is served over Streamable HTTP by the same process.
      const mcp = new Client({ name: 'start-test', version: '1.0.0' });
      await mcp.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${env.AIRLOCK_DEMO_TICKETING_PORT}/mcp`)));
      assert.deepEqual((await mcp.listTools()).tools.map((t) => t.name).sort(), ['create_ticket', 'get_ticket', 'update_ticket']);
      await mcp.close();
    } finally {
      assert.equal(await proc.stop('SIGINT'), 0, proc.output());
    }
    assert.equal(await listening(apiPort), false, 'the API is stopped');
    assert.equal(await listening(Number(env.AIRLOCK_DEMO_TICKETING_PORT)), false, 'the demo MCP server is stopped');
    await waitFor(
      () => listening(temporalPort),
      (up) => !up,
      15_000,
      'the dev server to stop',
    );
  });

  test('an API port already in use: exit 1 naming the port, and the dev server it started is stopped', async () => {
    const temporalPort = await freePort();
    const taken: Server = await new Promise((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => res(s));
    });
    const apiPort = (taken.address() as { port: number }).port;
    try {
      const env = await testEnv({ temporalPort, env: { AIRLOCK_API_PORT: String(apiPort) } });
      const proc = spawnNode(['--import', 'tsx', 'src/cli/main.ts', 'start'], env);
      const [code] = (await once(proc.child, 'exit')) as [number | null];
      assert.equal(code, 1, proc.output());
      assert.match(proc.output(), new RegExp(`the API cannot listen on 127\\.0\\.0\\.1:${apiPort} \\(api\\.port / AIRLOCK_API_PORT\\): .*EADDRINUSE`));
      assert.equal(await listening(temporalPort), false, 'no Temporal dev server is left running');
    } finally {
      taken.close();
    }
  });
});
