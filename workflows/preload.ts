// Evaluated once per workflow thread, before any run (bundler `preloadModules`, src/worker/bundle.ts),
// and shared by every run in that thread instead of being re-evaluated for each one. LangGraph and
// LangChain core are ~4 MB of module code: evaluating them per run cost ~12 MB of heap per cached run
// and most of the CPU of starting or replaying a run (bench/README.md).
//
// The SDK deep-freezes shared modules, so nothing here may keep per-run state at module level:
// - the globals the shim adds (stream classes, a crypto over the sandbox's seeded Math.random) read
//   the running workflow's context when called;
// - LangGraph keeps run state in its graph objects, which each run builds itself (agentRun.ts), except the counter of
//   langgraph-checkpoint's checkpoint ids, which the bundler moves onto each run's globals (src/worker/loaders/);
// - LangChain's AsyncLocalStorage is registered by each run (langchainContext.ts), never here;
// - LangChain wraps each runnable call in a LangSmith RunTree (tracing disabled), whose constructor
//   assigns a static shared client on first use: a frozen class refuses that assignment, so the
//   client is created here, once. It never sends anything: tracing is off in the sandbox.
import './shim.js';
import '@langchain/langgraph';
// What agent graphs (agents.<name>.graph) and their model and tools are made of.
import '@langchain/langgraph/prebuilt';
import '@langchain/core/language_models/chat_models';
import '@langchain/core/messages';
import '@langchain/core/tools';
import { RunTree } from 'langsmith/run_trees';

RunTree.getSharedClient();
