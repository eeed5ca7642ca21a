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
