// Every workflow type the worker registers.
export { agentRunWorkflow } from './agentRun.js';
