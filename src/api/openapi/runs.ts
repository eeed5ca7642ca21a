// Runs (src/api/routes/runs.ts): start, list, read, cancel, answer a question.
import { RunsPageSchema, RunsQuerySchema } from '../listSchemas.js';
import { InputBodySchema, RunIdParamsSchema, StartRunBodySchema, StartRunHeadersSchema } from '../schemas.js';
import { jsonBody, jsonResponse, type Operation } from './operation.js';
import { PendingInputSchema, RunStartedSchema, RunViewSchema } from './responses.js';
import { z } from './zod.js';

const tags: [string] = ['Runs'];
const location = z.object({ Location: z.string().openapi({ description: 'The run: `/v1/runs/{runId}`' }) });

export const runOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/runs',
    operationId: 'startRun',
    tags,
    roles: ['requester'],
    summary: 'Start an agent run',
    description:
      'An Idempotency-Key binds, per requester and for good, to the first body it came with (agent, input, onBehalfOf). The same key and body again returns that run (200), in flight or ended, and never starts a second one; another body under the key is 422. onBehalfOf (service accounts only) must name a subject the identity provider knows.',
    request: { headers: StartRunHeadersSchema, body: jsonBody(StartRunBodySchema) },
    responses: {
      200: jsonResponse('The run this Idempotency-Key already started (header `Idempotent-Replayed: true`)', RunStartedSchema, {
        headers: location.extend({ 'Idempotent-Replayed': z.literal('true') }),
      }),
      202: jsonResponse('Run started', RunStartedSchema, { headers: location }),
    },
    errors: {
      400: 'Malformed body or Idempotency-Key, unknown agent (`unknown_agent`) or input that does not match the agent (`invalid_input`)',
      403: 'Caller lacks the requester role, or onBehalfOf is not allowed or names an unknown subject',
      409: 'The run this Idempotency-Key started has ended and is no longer kept',
      422: 'Idempotency-Key already used with a different body (`idempotency_key_reused`)',
    },
  },
  {
    method: 'get',
    path: '/v1/runs',
    operationId: 'listRuns',
    tags,
    roles: [],
    summary: 'List runs, filtered and paged',
    description:
      'From Temporal visibility, each run from its search attributes (no query to the run). Operators, admins and approvers list any run; everyone else lists only runs they requested (another requester is 403). Pass `next` as `cursor` with the same filters for the next page.',
    request: { query: RunsQuerySchema },
    responses: { 200: jsonResponse('A page of runs; `next` when more may follow', RunsPageSchema) },
    errors: { 400: 'Bad filter value or cursor', 403: 'A requester asked for runs of another requester' },
  },
  {
    method: 'get',
    path: '/v1/runs/{runId}',
    operationId: 'getRun',
    tags,
    roles: [],
    summary: 'A run: status, steps, approvals, questions, result',
    description: 'Its requester, operators, admins and approvers may read it.',
    request: { params: RunIdParamsSchema },
    responses: { 200: jsonResponse('The run', RunViewSchema) },
    errors: { 403: 'Not visible to the caller', 404: 'Unknown run', 503: 'An open run no worker answered for within 10 s (`run_unavailable`)' },
  },
  {
    method: 'post',
    path: '/v1/runs/{runId}/cancel',
    operationId: 'cancelRun',
    tags,
    roles: [],
    summary: 'Cancel a run',
    description: 'Its requester, operators and admins. The run records who cancelled it.',
    request: { params: RunIdParamsSchema },
    responses: { 202: jsonResponse('Cancellation requested', z.object({ runId: z.string(), status: z.literal('cancelling') })) },
    errors: { 403: 'Neither the requester nor an operator', 404: 'Unknown run', 409: 'Run already closed (`run_closed`)' },
  },
  {
    method: 'post',
    path: '/v1/runs/{runId}/input',
    operationId: 'answerInput',
    tags,
    roles: [],
    summary: "Answer a question the agent's graph asked (interrupt)",
    description: 'The requester, or a member of a group the agent names. The graph resumes with the answer.',
    request: { params: RunIdParamsSchema, body: jsonBody(InputBodySchema) },
    responses: { 200: jsonResponse('Answer recorded; the graph resumes', z.object({ input: PendingInputSchema })) },
    errors: { 403: 'Caller may not answer this question', 404: 'Unknown run or input', 409: 'Already answered (`already_answered`)' },
  },
];
