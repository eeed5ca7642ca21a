// The event stream (src/api/routes/events.ts): server-sent events of what the caller may see.
import { EVENT_TYPES } from '../../events/feed.js';
import { EventsQuerySchema } from '../routes/events.js';
import type { Operation } from './operation.js';
import { z } from './zod.js';

const EXAMPLE =
  'retry: 3000\n\nid: 42\nevent: approval.requested\ndata: {"type":"approval.requested","runId":"run-7Q2XK4M9PZ3B","at":"2026-11-26T10:00:00.000Z","approvalId":"run-7Q2XK4M9PZ3B-a1","tool":"billing.refund","requiredGroup":"finance","status":"pending"}\n\n';

export const eventOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/events',
    operationId: 'streamEvents',
    tags: ['Runs'],
    roles: [],
    summary: 'Server-sent events: approvals, run status and questions the caller may see',
    description: `Each event's \`id\` is its audit sequence number: reconnect with \`Last-Event-ID\` (or \`lastEventId\`) to get what was missed, then the live stream. Event types: ${EVENT_TYPES.join(', ')}. Events carry ids and statuses, never arguments or answers: read the run or the approval for those. The stream ends when the token expires or is revoked.`,
    request: {
      query: EventsQuerySchema,
      headers: z.object({ 'Last-Event-ID': EventsQuerySchema.shape.lastEventId.openapi({ description: 'Resume after this event id' }) }),
    },
    responses: { 200: { description: 'The stream (`text/event-stream`)', content: { 'text/event-stream': { schema: z.string(), example: EXAMPLE } } } },
    errors: { 400: 'Unknown event type or bad event id' },
  },
];
