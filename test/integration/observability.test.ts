// Observability of a demo run end to end: Prometheus /metrics, and one OpenTelemetry trace from the API
// request through the workflow and its activities to the MCP call, exported over OTLP/HTTP to a real
// receiver on loopback.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { flushTracing } from '../../src/observability/tracing.js';
import { DEMO_INPUT, startTestStack, waitFor, type TestStack } from '../helpers/stack.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  service?: string;
}

/** A minimal OTLP/HTTP JSON receiver: keeps every span POSTed to /v1/traces. */
async function otlpReceiver() {
  const spans: OtlpSpan[] = [];
  const headers: Array<Record<string, unknown>> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      assert.match(String(req.headers['content-type']), /application\/json/, 'the http exporter sends OTLP JSON');
      headers.push(req.headers);
      const msg = JSON.parse(body.toString('utf8')) as {
        resourceSpans?: Array<{ resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
      };
      for (const rs of msg.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue as string | undefined;
        for (const ss of rs.scopeSpans ?? []) for (const sp of ss.spans ?? []) spans.push({ ...sp, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, spans, headers, close: () => new Promise<void>((res) => server.close(() => res())) };
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue) : undefined;
};

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

describe('observability of a demo run', () => {
  let s: TestStack;
  let otlp: Awaited<ReturnType<typeof otlpReceiver>>;
  const logs: string[] = [];
  before(async () => {
    otlp = await otlpReceiver();
    s = await startTestStack({
      env: { AIRLOCK_LOG_LEVEL: 'info' },
      logSink: (line) => void logs.push(line),
      overrides: (cfg) => {
        cfg.observability.otlp = { endpoint: otlp.url, headers: { 'x-otlp-test': 'yes' } };
      },
    });
  });
  after(async () => {
    await s?.cleanup();
    await otlp?.close();
  });

  test('metrics and one trace for a run that waits for approval and completes', async () => {
    const metrics = async () => {
      const res = await fetch(`${s.apiUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
      return res.text();
    };
    const requestId = 'obs-test-start-1';
    const started = await s.call('POST', '/v1/runs', {
      token: await s.token('alice'),
      headers: { 'x-request-id': requestId },
      body: { agent: 'refund-assistant', input: DEMO_INPUT },
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;
    const waiting = await s.waitForRun(runId, (v) => v.status === 'awaiting_approval');

    // Visibility is eventually consistent: scrape until the gauges see the waiting run.
    let text = await waitFor(metrics, (t) => (sample(t, 'airlock_approvals_pending') ?? 0) >= 1, 15_000, 'a pending approval in /metrics');
    assert.ok(sample(text, 'airlock_runs', { status: 'awaiting_approval' })! >= 1, 'runs by status');
    assert.ok(sample(text, 'airlock_approval_pending_oldest_age_seconds')! > 0, 'age of the oldest pending approval');
    assert.equal(sample(text, 'airlock_visibility_up'), 1);
    assert.equal(sample(text, 'airlock_policy_decisions_total', { outcome: 'require_approval' }), 1);

    const decided = await s.call('POST', `/v1/approvals/${waiting.pendingApprovals[0]!.approvalId}/decision`, {
      token: await s.token('bob'),
      body: { decision: 'approve' },
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    await s.waitForRun(runId, (v) => v.status === 'completed');

    text = await waitFor(metrics, (t) => (sample(t, 'airlock_runs', { status: 'completed' }) ?? 0) >= 1 && sample(t, 'airlock_approvals_pending') === 0, 15_000, 'the completed run in /metrics');
    const tools = [
      ['crm', 'get_account'],
      ['billing', 'get_invoice'],
      ['ticketing', 'create_ticket'],
      ['billing', 'issue_refund'],
      ['crm', 'add_note'],
      ['ticketing', 'update_ticket'],
    ];
    for (const [server, tool] of tools) {
      assert.equal(sample(text, 'airlock_tool_calls_total', { server: server!, tool: tool!, outcome: 'success' }), 1, `${server}.${tool} counted once`);
      assert.equal(sample(text, 'airlock_tool_call_duration_seconds_count', { server: server!, tool: tool!, outcome: 'success' }), 1);
    }
    assert.equal(sample(text, 'airlock_tool_calls_total', { outcome: 'failure' }), undefined, 'no failed tool calls');
    assert.equal(sample(text, 'airlock_policy_decisions_total', { outcome: 'allow' }), 5, 'five calls allowed outright');
    assert.equal(sample(text, 'airlock_policy_decisions_total', { outcome: 'require_approval' }), 1);
    assert.equal(sample(text, 'airlock_policy_decisions_total', { outcome: 'deny' }), 0);
    assert.equal(sample(text, 'airlock_approval_decision_latency_seconds_count', { decision: 'approved' }), 1);
    assert.equal(sample(text, 'airlock_approval_pending_oldest_age_seconds'), 0);
    assert.match(text, /# TYPE airlock_mcp_errors_total counter/);
    assert.match(text, /# TYPE process_cpu_seconds_total counter/, 'default process metrics');

    // Spans: the workflow's last span ends with the run, so flush until they have all arrived.
    const names = ['RunWorkflow:agentRunWorkflow', 'RunActivity:decide', 'RunActivity:callTool', 'mcp.callTool'];
    await waitFor(
      async () => {
        await flushTracing();
        return otlp.spans;
      },
      (spans) => {
        const api = spans.find((x) => attr(x, 'airlock.request_id') === requestId);
        return !!api && names.every((n) => spans.filter((x) => x.traceId === api.traceId && x.name === n).length >= (n === 'mcp.callTool' ? 6 : 1));
      },
      20_000,
      'the run’s spans at the OTLP receiver',
    );
    const api = otlp.spans.find((x) => attr(x, 'airlock.request_id') === requestId)!;
    assert.equal(api.name, 'POST /v1/runs');
    assert.equal(api.kind, 2, 'a server span');
    assert.equal(attr(api, 'http.route'), '/v1/runs');
    assert.equal(attr(api, 'http.response.status_code'), 202);
    assert.equal(api.service, 'airlock');
    const trace = otlp.spans.filter((x) => x.traceId === api.traceId);
    const byId = new Map(trace.map((x) => [x.spanId, x]));
    const parentName = (x: OtlpSpan) => (x.parentSpanId ? byId.get(x.parentSpanId)?.name : undefined);

    const startWf = trace.find((x) => x.name === 'StartWorkflow:agentRunWorkflow');
    assert.ok(startWf, 'the client span of the workflow start');
    assert.equal(parentName(startWf), 'POST /v1/runs');
    const runWf = trace.find((x) => x.name === 'RunWorkflow:agentRunWorkflow')!;
    assert.equal(parentName(runWf), 'StartWorkflow:agentRunWorkflow');
    assert.deepEqual(
      runWf.attributes?.map((a) => a.key).sort(),
      ['attempt', 'namespace', 'runId', 'taskQueue', 'workflowId', 'workflowType'],
      'workflow spans carry the execution identity, never its memo (pending approvals and their args)',
    );
    assert.equal(attr(runWf, 'workflowId'), runId);
    for (const x of trace.filter((y) => y.name === 'RunActivity:decide' || y.name === 'RunActivity:callTool'))
      assert.match(parentName(x) ?? '', /^StartActivity:(decide|callTool)$/, `${x.name} under the workflow's StartActivity span`);
    const mcp = trace.filter((x) => x.name === 'mcp.callTool');
    assert.deepEqual(mcp.map((x) => `${attr(x, 'mcp.server')}.${attr(x, 'mcp.tool')}`).sort(), tools.map(([a, b]) => `${a}.${b}`).sort(), 'one MCP span per tool call, with server and tool');
    for (const x of mcp) {
      assert.equal(parentName(x), 'RunActivity:callTool');
      assert.equal(x.kind, 3, 'a client span');
      assert.equal(attr(x, 'mcp.tool.is_error'), false);
      assert.ok(!JSON.stringify(x.attributes).includes('INV-2001'), 'no tool args in spans');
    }
    assert.ok(otlp.headers.length > 0 && otlp.headers.every((h) => h['x-otlp-test'] === 'yes'), 'configured OTLP headers are sent');

    // Logs: the request's lines carry its request id and its trace id.
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === requestId && l.msg === 'run started');
    assert.ok(line, 'the API logged the run start');
    assert.equal(line.runId, runId);
    assert.equal(line.traceId, api.traceId);
  });

  test('the request id is echoed back, and generated when absent', async () => {
    const given = await fetch(`${s.apiUrl}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(given.headers.get('x-request-id'), 'abc-123');
    const generated = await fetch(`${s.apiUrl}/healthz`);
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f]{16}$/);
  });
});
