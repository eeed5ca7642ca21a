// The run list's boundary: its query (filters and a page cursor) and each item it returns.
import { z } from './openapi/zod.js';
import { isoTime } from './schemas.js';

export const RunStatusSchema = z.enum(['running', 'awaiting_approval', 'awaiting_input', 'completed', 'rejected', 'failed', 'cancelled']).openapi('RunStatus');

/** A value that goes into a visibility query (escaped there as well): no control characters. */
const FilterValue = z
  .string()
  .min(1)
  .max(200)
  .regex(/^\P{Cc}+$/u, 'no control characters')
  // The generator would write the flags into the pattern; an OpenAPI pattern is Unicode-aware anyway.
  .openapi({ pattern: '^\\P{Cc}+$' });

export const RunsQuerySchema = z
  .strictObject({
    agent: FilterValue.optional(),
    status: RunStatusSchema.optional(),
    requester: FilterValue.optional(),
    /** Start-time bounds, both inclusive. */
    from: isoTime.optional().openapi({ description: 'Started at or after' }),
    to: isoTime.optional().openapi({ description: 'Started at or before' }),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    /** The `next` of the previous page (opaque). */
    cursor: z.string().min(1).max(4000).optional().openapi({ description: 'The `next` of the previous page, with the same filters (opaque)' }),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });
export type RunsQuery = z.infer<typeof RunsQuerySchema>;

/** One run in a list, read from its search attributes (no query to the run). */
export const RunSummarySchema = z
  .object({
    runId: z.string(),
    agent: z.string(),
    requester: z.string(),
    status: RunStatusSchema,
    startedAt: z.string(),
    closedAt: z.string().optional(),
    pendingGroups: z.array(z.string()),
    risk: z.string(),
  })
  .openapi('RunSummary');
export type RunSummary = z.infer<typeof RunSummarySchema>;

/** A page of the run list; `next` when more may follow. */
export const RunsPageSchema = z.object({ runs: z.array(RunSummarySchema), next: z.string().optional() }).openapi('RunsPage');
