// The readiness report's shape: what the CLI prints and GET /v1/readiness returns.
import type { PolicyEngine } from '../policy/engine.js';
import type { LockFile } from '../registry/lock.js';
import type { StatusStore } from '../registry/status.js';

export type QuestionId = 'execution' | 'systems' | 'identity' | 'approvals' | 'controls' | 'independence' | 'dataflow';
export type Severity = 'error' | 'warning';
export type GapCode =
  | 'policy-load-failed' // the policy set does not load: every tool call is denied
  | 'policy-warning' // Cedar validation warning
  | 'lockfile-unreadable' // the registry lockfile is invalid: every server fails closed
  | 'status-unreadable' // the runtime status file is invalid: every server is refused
  | 'server-no-owner' // no team is accountable for the server
  | 'server-not-pinned' // nobody certified the server's tool definitions
  | 'server-findings-overridden' // an admin accepted scanner findings when pinning
  | 'agent-server-unavailable' // an agent names a server that is not approved (proposed, quarantined, retired)
  | 'write-tool-ungoverned' // a write tool an executing agent can reach that no policy permits (so it is always denied)
  | 'autonomous-without-approval' // an autonomous agent with write tools and no approval rule for any of them
  | 'dev-issuer' // tokens come from the embedded demo issuer
  | 'monitoring-off' // no /metrics and no OTLP export
  | 'pins-not-required' // registry.requirePins is off: unpinned and drifted servers are called anyway
  | 'rule-of-two-unguarded'; // an agent combines untrusted input, sensitive data and acting tools, and nothing stops some act without a human

export interface ReadinessLink {
  file: string;
  line?: number;
  path: string;
  /** The key is absent, so its default applies; `line` (if any) is its nearest present ancestor. */
  defaulted?: true;
}

export interface ReadinessGap {
  severity: Severity;
  code: GapCode;
  message: string;
  link: ReadinessLink;
}

export interface ReadinessAnswer {
  id: QuestionId;
  question: string;
  answer: string;
  details: Record<string, unknown>;
  links: ReadinessLink[];
  gaps: ReadinessGap[];
}

export interface ReadinessReport {
  generatedAt: string;
  configFile: string;
  policyVersion: string | null;
  questions: ReadinessAnswer[];
  /** Every question's gaps, errors first. */
  gaps: ReadinessGap[];
  /** No error-severity gap. */
  ok: boolean;
}

export type StatusFile = Exclude<ReturnType<StatusStore['current']>, Error>;

export interface ReadinessDeps {
  /** The policy set new decisions use, or its load error (default: PolicyEngine.load(config.policy.dir)). */
  policy?: PolicyEngine | Error;
  /** The registry pins (default: read config.registry.lockFile). */
  lock?: LockFile | Error;
  /** Runtime status decisions (default: read registry-status.json in the data dir). */
  status?: StatusFile | Error;
  now?: Date;
}

export const QUESTIONS: Record<QuestionId, string> = {
  execution: 'Which workflows are approved for execution, and which are advisory only?',
  systems: 'Which systems are exposed through MCP, and who certified each server?',
  identity: 'What identity does each agent run under, and how is its authorization scoped?',
  approvals: 'Which actions require human approval?',
  controls: 'Where are tool calls validated, logged and monitored?',
  independence: 'Can models, workflows and connectors each change independently?',
  dataflow: 'Data flow: which agents can combine all three legs of the Rule of Two, and what stops them?',
};
