// The run list's boundary: its query (filters and a page cursor) and each item it returns.
import { z } from 'zod';
import { isoTime } from './schemas.js';

const RunStatusSchema = z.enum(['running', 'awaiting_approval', 'awaiting_input', 'completed', 'rejected', 'failed', 'cancelled']);

/** A value that goes into a visibility query (escaped there as well): no control characters. */
const FilterValue = z
  .string()
  .min(1)
  .max(200)
  .regex(/^\P{Cc}+$/u, 'no control characters');

export const RunsQuerySchema = z
  .strictObject({
    agent: FilterValue.optional(),
    status: RunStatusSchema.optional(),
    requester: FilterValue.optional(),
    /** Start-time bounds, both inclusive. */
    from: isoTime.optional(),
    to: isoTime.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    /** The `next` of the previous page (opaque). */
    cursor: z.string().min(1).max(4000).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });
export type RunsQuery = z.infer<typeof RunsQuerySchema>;

/** One run in a list, read from its search attributes (no query to the run). */
export const RunSummarySchema = z.object({
  runId: z.string(),
  agent: z.string(),
  requester: z.string(),
  status: RunStatusSchema,
  startedAt: z.string(),
  closedAt: z.string().optional(),
  pendingGroups: z.array(z.string()),
  risk: z.string(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;
