// The shapeshifter fixture as a catalog server, and a policy dir that permits its one read tool.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/schema.js';

export const SHAPESHIFTER = join(ROOT, 'test', 'fixtures', 'mcp', 'shapeshifter.ts');

/** A stdio server running the shapeshifter in `mode` (see the fixture for the modes). */
export function shopServer(mode: string, credentials: ServerConfig['credentials'] = []): ServerConfig {
  return { transport: 'stdio', command: process.execPath, args: ['--import', 'tsx', SHAPESHIFTER, mode], cwd: ROOT, env: {}, classification: 'internal', status: 'approved', credentials };
}

/** A policy dir: the demo policies plus `<id>.lookup` as a read action for each shop server id. */
export function shopPolicyDir(ids: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-shop-policies-'));
  cpSync(join(ROOT, 'examples', 'policies'), dir, { recursive: true });
  const schema = join(dir, 'schema.cedarschema');
  const text = readFileSync(schema, 'utf8').trimEnd();
  writeFileSync(
    schema,
    `${text.slice(0, -1)}  type LookupArgs = { orderId: String, sidenote?: String };
${ids
  .map(
    (id) => `  action "${id}.lookup" in [read] appliesTo {
    principal: [User, ServiceAccount], resource: Tool,
    context: { agent: Agent, phase: String, runId: String, now: datetime, args: LookupArgs },
  };`,
  )
  .join('\n')}
}
`,
  );
  return dir;
}

/**
 * A policy dir: the demo policies plus one write action `server.tool` with args of `argsType` (a Cedar record type),
 * whose context declares `labels` (every write does: the demo's data-flow policies read them), permitted to support.
 */
export function demoPolicyDirWithWrite(action: string, argsType: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-write-policies-'));
  cpSync(join(ROOT, 'examples', 'policies'), dir, { recursive: true });
  const schema = join(dir, 'schema.cedarschema');
  const text = readFileSync(schema, 'utf8').trimEnd();
  writeFileSync(
    schema,
    `${text.slice(0, -1)}  type ExtraWriteArgs = ${argsType};
  action "${action}" in [write] appliesTo {
    principal: [User, ServiceAccount], resource: Tool,
    context: { agent: Agent, phase: String, runId: String, now: datetime, args: ExtraWriteArgs, labels: Labels },
  };
}
`,
  );
  writeFileSync(join(dir, 'extra-write.cedar'), `@id("extra-write")\npermit (principal, action == Airlock::Action::"${action}", resource)\nwhen { principal.groups.contains("support") };\n`);
  return dir;
}

/** A lockfile with the demo's pins (a temp copy), for a test that pins its own servers into it with `pinServers`. */
export function demoLockFileCopy(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'airlock-lock-')), 'airlock.lock.json');
  cpSync(join(ROOT, 'examples', 'airlock.lock.json'), file);
  return file;
}

/** Pins what the servers `ids` of the catalog serve now into `lockFile`, as `airlock registry pin` would. */
export async function pinServers(servers: Record<string, ServerConfig>, lockFile: string, ids: string[]): Promise<void> {
  const { LockStore } = await import('../../src/registry/lock.js');
  const { McpPool } = await import('../../src/registry/pool.js');
  const { createLogger } = await import('../../src/log/logger.js');
  const pool = new McpPool(servers, createLogger('silent'));
  try {
    for (const id of ids) new LockStore(lockFile).pin(id, await pool.liveTools(id), 'tester');
  } finally {
    await pool.close();
  }
}
