// Every path a config names is relative to the config file, so a copied config never shares another's state.
import { isAbsolute, resolve, sep } from 'node:path';
import type { FileConfig } from './schema.js';

/**
 * The data directory: `AIRLOCK_DATA_DIR` when set (a relative value is relative to `root`, the repository, as
 * it always was), else the file's `dataDir` relative to the config file's directory, else `.airlock` beside it.
 */
export function resolveDataDir(fromEnv: string | undefined, fromFile: unknown, configDir: string, root: string): string {
  if (fromEnv) return resolve(root, fromEnv);
  return resolve(configDir, typeof fromFile === 'string' && fromFile ? fromFile : '.airlock');
}

type SecretRef = { env: string } | { file: string };
const secret = <T extends SecretRef | undefined>(ref: T, dir: string): T => (ref && 'file' in ref ? { ...ref, file: resolve(dir, ref.file) } : ref);

/** Makes every path of a parsed config absolute: config-relative ones against `configDir`, data files against `dataDir`. */
export function resolvePaths(cfg: FileConfig, configDir: string, dataDir: string): void {
  const at = (p: string) => resolve(configDir, p);
  cfg.dataDir = dataDir;
  const tls = cfg.temporal.tls;
  if (typeof tls === 'object') for (const key of ['caFile', 'certFile', 'keyFile'] as const) if (tls[key]) tls[key] = at(tls[key]);
  // A bare name (`temporal`) is not a path: it is looked up on PATH.
  if (cfg.temporal.cli && (cfg.temporal.cli.includes('/') || cfg.temporal.cli.includes(sep))) cfg.temporal.cli = at(cfg.temporal.cli);
  const enc = cfg.temporal.encryption;
  if (enc) for (const id of Object.keys(enc.keys)) enc.keys[id] = secret(enc.keys[id]!, configDir);
  cfg.policy.dir = at(cfg.policy.dir);
  cfg.registry.lockFile = at(cfg.registry.lockFile);
  const identity = cfg.identity;
  identity.decisionKey = secret(identity.decisionKey, configDir);
  if (identity.directory?.file) identity.directory.file = at(identity.directory.file);
  for (const m of Object.values(cfg.models)) m.apiKey = secret(m.apiKey, configDir);
  for (const s of Object.values(cfg.servers)) {
    for (const c of s.credentials) c.from = secret(c.from, configDir);
    if (s.transport === 'stdio') {
      if (s.cwd) s.cwd = at(s.cwd);
      continue;
    }
    if (s.oauth) s.oauth.clientSecret = secret(s.oauth.clientSecret, configDir);
    if (s.demo) {
      s.demo.module = at(s.demo.module);
      if (!isAbsolute(s.demo.db)) s.demo.db = resolve(dataDir, s.demo.db);
    }
  }
  for (const a of Object.values(cfg.agents)) if (a.graph) a.graph = at(a.graph);
  const n = cfg.notifications;
  for (const c of Object.values(n?.channels ?? {})) {
    if (c.kind === 'webhook') c.secret = secret(c.secret, configDir);
    if (c.kind === 'slack') c.url = secret(c.url, configDir);
  }
  if (n?.smtp) n.smtp.password = secret(n.smtp.password, configDir);
}
