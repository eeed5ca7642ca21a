import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../config/load.js';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../observability/tracing.js';

export const WORKFLOWS_DIR = join(ROOT, 'workflows');
/** The governance core: pure, and bundled with the workflows that import it. */
const CORE_DIR = join(ROOT, 'src', 'core');
/**
 * Workflow interceptors bundled with the workflows (a prebuilt bundle ignores the worker's own
 * `interceptors.workflowModules`): OpenTelemetry spans for the run and the activities it schedules,
 * exported through the worker's `exporter` sink (src/observability/tracing.ts).
 */
const INTERCEPTOR_MODULES = [WORKFLOW_TRACING_INTERCEPTORS];
/**
 * Evaluated once per workflow thread and shared by every run in it (workflows/preload.ts): LangGraph
 * and LangChain core, instead of a fresh copy of their modules for every run the thread starts or replays.
 */
const PRELOAD_MODULES = [join(WORKFLOWS_DIR, 'preload.ts')];

function sourceHash(): string {
  const h = createHash('sha256');
  for (const dir of [WORKFLOWS_DIR, CORE_DIR]) for (const f of readdirSync(dir).sort()) h.update(relative(ROOT, join(dir, f))).update(readFileSync(join(dir, f)));
  h.update(INTERCEPTOR_MODULES.join('\0')).update(PRELOAD_MODULES.join('\0'));
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(lock)) h.update(readFileSync(lock));
  return h.digest('hex').slice(0, 16);
}

/**
 * The webpack bundle of workflows/ (with the core it imports), cached on disk by a hash of their sources and the lockfile:
 * bundling LangGraph takes seconds, and every worker process would otherwise repeat it.
 */
export async function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  const dir = join(ROOT, 'node_modules', '.cache', 'airlock');
  const file = join(dir, `workflows-${sourceHash()}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
  const bundle = await bundleWorkflowCode({ workflowsPath: join(WORKFLOWS_DIR, 'index.ts'), workflowInterceptorModules: INTERCEPTOR_MODULES, preloadModules: PRELOAD_MODULES, logger: quietLogger });
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(bundle));
  renameSync(tmp, file);
  return bundle;
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string, meta?: unknown) => console.error(m, meta ?? ''), log: noop };
