// LangChain keeps the running graph's config (what `interrupt()`, `getConfig()` and nested runnables read) in an
// AsyncLocalStorage. The browser build that the bundle carries has none (a mock that stores nothing: `interrupt()` then
// fails with "Called interrupt() outside the context of a graph"). Register the sandbox's own AsyncLocalStorage.
//
// Import this from the workflow module, after './shim.js', never from preload.ts: it must be evaluated for every run.
// LangChain stores the instance on globalThis (each run's own globals), and the sandbox disables an AsyncLocalStorage
// when the run that created it is disposed, so one shared instance would break every run after the first.
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
import { AsyncLocalStorage, inWorkflowContext } from '@temporalio/workflow';

// Only inside a workflow: the API imports the workflow module (for its type-safe start) in an ordinary Node
// process, whose LangChain must keep Node's own AsyncLocalStorage.
if (inWorkflowContext()) AsyncLocalStorageProviderSingleton.initializeGlobalInstance(new AsyncLocalStorage());
