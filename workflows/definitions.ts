// Handles for the run workflow's messages and its search attributes.
// Imported by the workflow, the API and the tests — never string names.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Approval, CancelRunInput, DecideApprovalInput, PendingInput, ProvideInputInput, RunView } from '../src/core/types.js';

export const getRunQuery = defineQuery<RunView>('getRun');
export const decideApprovalUpdate = defineUpdate<Approval, [DecideApprovalInput]>('decideApproval');
/** An answer to a question the agent's graph asked with interrupt(). */
export const provideInputUpdate = defineUpdate<PendingInput, [ProvideInputInput]>('provideInput');
/** A person cancels the run: recorded with their name, then the run's work is cancelled. */
export const cancelRunUpdate = defineUpdate<void, [CancelRunInput]>('cancelRun');

export const SA = {
  agent: defineSearchAttributeKey('AirlockAgent', SearchAttributeType.KEYWORD),
  requester: defineSearchAttributeKey('AirlockRequester', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('AirlockStatus', SearchAttributeType.KEYWORD),
  pendingGroups: defineSearchAttributeKey('AirlockPendingGroups', SearchAttributeType.KEYWORD_LIST),
  /** Highest risk the run has met: low (reads only), medium (writes policy allowed), high (approvals or denials). */
  risk: defineSearchAttributeKey('AirlockRisk', SearchAttributeType.KEYWORD),
  /** Data-flow labels (src/core/labels.ts): the highest classification the run holds, whether untrusted content entered it, the servers it has seen. */
  classification: defineSearchAttributeKey('AirlockClassification', SearchAttributeType.KEYWORD),
  untrusted: defineSearchAttributeKey('AirlockUntrusted', SearchAttributeType.BOOL),
  serversSeen: defineSearchAttributeKey('AirlockServersSeen', SearchAttributeType.KEYWORD_LIST),
} as const;

/** Memo key holding the pending approvals (listed without querying each run). */
export const PENDING_MEMO = 'pendingApprovals';
