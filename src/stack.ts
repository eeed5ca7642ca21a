import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createServer, type Server } from 'node:http';
import { startDemoServers } from './mcp/demo.js';
import type { DevServer } from './temporal/devserver.js';
import { startLocalDevServer } from './temporal/localServer.js';
import { createApp } from './api/app.js';
import { createApiDeps } from './api/deps.js';
import { openAuditStore } from './audit/index.js';
import type { AirlockConfig } from './config/load.js';
import { DevIssuer, type TokenVerifier } from './identity/devIssuer.js';
import { OidcVerifier } from './identity/oidc.js';
import type { Logger } from './log/logger.js';
import { clientTracingInterceptors, startTracing } from './observability/tracing.js';
import { temporalDataConverter } from './temporal/codec.js';
import { temporalConnectionOptions } from './temporal/connection.js';
import { ensureSearchAttributes, searchAttributeCommands } from './temporal/setup.js';
import { createWorker, type AirlockWorker } from './worker/worker.js';

export interface StackParts {
  temporal?: boolean;
  demoServers?: boolean;
  worker?: boolean;
  api?: boolean;
  /**
   * The local dev server, already starting (`airlock start` starts it before loading the rest of
   * Airlock, so the two overlap). The stack owns it from here: it is stopped with the stack, also
   * when the stack fails to start.
   */
  devServer?: Promise<DevServer>;
}

export interface Stack {
  config: AirlockConfig;
  temporalAddress: string;
  temporalUi?: string;
  apiUrl?: string;
  client: Client;
  issuer: DevIssuer;
  worker?: AirlockWorker;
  stop(): Promise<void>;
}

let runtimeInstalled = false;
/** Routes the Temporal SDK's own logs into pino (once per process). */
function installRuntime(log: Logger) {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (log.level === 'silent' ? 'ERROR' : log.level.toUpperCase()) as LogLevel;
  const tlog = log.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'INFO', (e) => {
      const fn = { TRACE: tlog.trace, DEBUG: tlog.debug, INFO: tlog.info, WARN: tlog.warn, ERROR: tlog.error }[e.level].bind(tlog);
      fn(e.meta ?? {}, e.message);
    }),
  });
}

/**
 * Starts what `airlock start` runs, in order, and stops it in reverse: the Temporal dev server
 * (unless an external address is configured), the demo MCP HTTP servers, the worker, the API.
 */
export async function startStack(config: AirlockConfig, log: Logger, parts: StackParts = {}): Promise<Stack> {
  const { devServer, ...wanted } = parts;
  const want = { temporal: true, demoServers: true, worker: true, api: true, ...wanted };
  const stops: Array<() => Promise<void>> = [];
  // The dev server, passed in already starting or started below, is stopped last, also when a step fails.
  let devStarting = devServer;
  stops.push(async () => (await devStarting?.catch(() => undefined))?.stop());
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.error({ err }, 'error while stopping'));
  };
  try {
    // Stopped after everything but the dev server: spans still ending while the rest stops get exported.
    const tracing = startTracing(config, log);
    stops.push(tracing.shutdown);
    let dev: DevServer | undefined;
    let address = config.temporal.address;
    if (!address) {
      if (!want.temporal) throw new Error('no temporal.address configured and the local dev server is disabled');
      devStarting ??= startLocalDevServer(config, log);
      dev = await devStarting;
      address = dev.address;
    }
    const connOpts = temporalConnectionOptions(config, address);
    // Payload encryption for the client and the worker alike (a missing key stops the start here).
    const dataConverter = temporalDataConverter(config);
    const connection = await Connection.connect(connOpts);
    stops.push(() => connection.close());
    const sa = await ensureSearchAttributes(connection, config.temporal.namespace);
    if ('unmanaged' in sa) {
      log.warn(
        { reason: sa.unmanaged, register: searchAttributeCommands(config.temporal.namespace) },
        'cannot manage search attributes on this Temporal server; register them once by hand if runs fail to start',
      );
    } else if (sa.added.length) log.info({ added: sa.added }, 'registered search attributes');
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter, interceptors: clientTracingInterceptors() });
    const issuer = await DevIssuer.open(config.dataDir, config.identity.tokenTtl);
    const verifier: TokenVerifier = config.identity.issuer === 'oidc' ? await OidcVerifier.create(config.identity.oidc!) : issuer;
    const stack: Stack = { config, temporalAddress: address, temporalUi: dev?.uiUrl, client, issuer, stop };

    if (want.demoServers) {
      const demo = await startDemoServers(config.servers, { log });
      stops.push(demo.close);
    }
    if (want.worker) {
      installRuntime(log);
      const nc = await NativeConnection.connect(connOpts);
      const worker = await createWorker(config, nc, log.child({ component: 'worker' }));
      const done = worker.run();
      done.catch((err) => log.error({ err }, 'worker stopped with an error'));
      stops.push(async () => {
        await worker.shutdown();
        await nc.close();
      });
      stack.worker = worker;
    }
    if (want.api) {
      const audit = await openAuditStore(config, { log: log.child({ component: 'audit' }) });
      stops.push(() => audit.close());
      // Built once for every request: stores, the registry audit and the scan pool (closed after the server drains).
      const deps = createApiDeps({ config, client, verifier, log: log.child({ component: 'api' }), audit });
      stops.push(() => deps.close());
      const app = createApp(deps);
      // A request still running when the API has stopped has its Temporal calls cancelled before the connection
      // closes: left alone, a call the stopping dev server drops is retried on the closed channel, and throws.
      const stopping = new AbortController();
      const server = await new Promise<Server>((res, rej) => {
        const fail = (err: Error) => rej(new Error(`the API cannot listen on ${config.api.host}:${config.api.port} (api.port / AIRLOCK_API_PORT): ${err.message}`));
        const s = createServer((req, resp) => void client.withAbortSignal(stopping.signal, async () => app(req, resp)));
        s.once('error', fail).listen(config.api.port, config.api.host, () => res(s));
      });
      const port = (server.address() as { port: number }).port;
      stack.apiUrl = `http://${config.api.host}:${port}`;
      stops.push(
        () =>
          new Promise<void>((res) => {
            deps.events.close(); // end open event streams; they never finish on their own
            server.close(() => {
              stopping.abort();
              res();
            });
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 5_000).unref();
          }),
      );
    }
    return stack;
  } catch (err) {
    await stop();
    throw err;
  }
}
