// `airlock start` next to something that already holds one of its ports: before anything starts, one
// line naming the port, what needs it and the setting that moves it (and that another Airlock stack
// holds it, when it can tell), then exit 1 without a stack trace and without touching the other stack.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { spawnNode } from '../helpers/process.js';
import { freePort, startTestStack, testEnv, type TestStack } from '../helpers/stack.js';

/** Runs `airlock start` with `env` until it exits: its exit code and what it printed. */
async function start(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const proc = spawnNode(['--import', 'tsx', 'src/cli/main.ts', 'start'], env);
  const timer = setTimeout(() => void proc.stop('SIGKILL'), 60_000);
  const [code] = (await once(proc.child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out: proc.output() };
}

/** The output is one line: no stack trace, no log lines. */
function oneLine(out: string): string {
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 1, out);
  assert.doesNotMatch(out, /\n\s+at /);
  return lines[0]!;
}

describe('airlock start when its ports are taken', () => {
  let first: TestStack;
  let apiPort: number;
  before(async () => {
    apiPort = await freePort();
    first = await startTestStack({ parts: { worker: false }, env: { AIRLOCK_API_PORT: String(apiPort) } });
  });
  after(async () => {
    await first?.stop();
  });

  test('a second stack with the same ports names the API port and the Airlock stack holding it', async () => {
    const { code, out } = await start(first.env);
    assert.equal(code, 1, out);
    assert.equal(
      oneLine(out),
      `airlock: the API cannot listen on 127.0.0.1:${apiPort} (api.port / AIRLOCK_API_PORT): the port is already in use (EADDRINUSE), ` +
        `another Airlock stack is running (http://127.0.0.1:${apiPort}/healthz answers); stop that or change the port`,
    );
    // The first stack still serves: the second one started nothing and stopped nothing.
    assert.equal((await fetch(`${first.apiUrl}/healthz`)).status, 200);
  });

  test("the first stack's Temporal port is named with its setting, not reused", async () => {
    const { code, out } = await start({ ...first.env, AIRLOCK_API_PORT: '0' });
    assert.equal(code, 1, out);
    const temporalPort = first.env.AIRLOCK_TEMPORAL_PORT;
    assert.match(
      oneLine(out),
      new RegExp(`^airlock: the Temporal dev server cannot listen on 127\\.0\\.0\\.1:${temporalPort} \\(temporal\\.devServer\\.port / AIRLOCK_TEMPORAL_PORT\\): the port is already in use`),
    );
  });
});

test('a demo MCP server port held by another program: named with the variable the demo config reads', async () => {
  const taken: Server = await new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => res(s));
  });
  const port = (taken.address() as { port: number }).port;
  try {
    const { code, out } = await start(await testEnv({ ticketingPort: port }));
    assert.equal(code, 1, out);
    const line = oneLine(out);
    assert.match(line, new RegExp(`^airlock: the demo MCP server "ticketing" cannot listen on 127\\.0\\.0\\.1:${port} \\(servers\\.ticketing\\.url / AIRLOCK_DEMO_TICKETING_PORT\\)`));
    assert.doesNotMatch(line, /another Airlock stack/);
  } finally {
    taken.close();
  }
});
