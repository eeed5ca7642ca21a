import type { AirlockConfig } from '../src/config/load.js';
import type { Planner } from '../src/models/index.js';
import type { PolicySource } from '../src/policy/source.js';
import type { McpPool } from '../src/registry/pool.js';
import type { Redactor } from '../src/audit/redact.js';
import type { AuditStore } from '../src/audit/types.js';
import type { BlobStore } from '../src/blobs/store.js';
import { createAuditActivities, createAuditWriter } from './audit.js';
import { createChatActivities } from './chat.js';
import { createControlActivities } from './control.js';
import { createMcpActivities } from './mcp.js';
import { createModelActivities } from './model.js';
import { createNotifyActivities } from './notify.js';
import { createProofActivities } from './proof.js';

export interface ActivityDeps {
  config: AirlockConfig;
  pool: McpPool;
  planners: Map<string, Planner>;
  policies: PolicySource;
  audit: AuditStore;
  redactor: Redactor;
  blobs: BlobStore;
}

/** All activities of the worker, built from injectable dependencies. */
export function createActivities(deps: ActivityDeps) {
  const withWriter = { ...deps, writer: createAuditWriter(deps) };
  return {
    ...createModelActivities(withWriter),
    ...createChatActivities(withWriter),
    ...createControlActivities(withWriter),
    ...createMcpActivities(withWriter),
    ...createAuditActivities(withWriter),
    ...createProofActivities(withWriter),
    ...createNotifyActivities(withWriter),
  };
}

export type Activities = ReturnType<typeof createActivities>;
