// The policy set and the governance readiness report (src/api/routes/policy.ts, readiness.ts).
import { QUESTIONS } from '../../readiness/types.js';
import { jsonResponse, type Operation } from './operation.js';
import { z } from './zod.js';

export const PolicySetSchema = z
  .object({
    dir: z.string(),
    version: z.string().openapi({ description: 'Content hash of the policy set (what decisions record)' }),
    policies: z.array(z.string()).openapi({ description: 'Policy ids' }),
    warnings: z.array(z.string()).openapi({ description: 'Cedar validation warnings, located' }),
  })
  .openapi('PolicySet');
export type PolicySet = z.infer<typeof PolicySetSchema>;
const PolicyUnloadable = z.object({ dir: z.string(), error: z.string() }).openapi('PolicyUnloadable', { description: 'The policy set does not load: every tool call is denied' });

const LinkSchema = z
  .object({ file: z.string(), line: z.number().int().optional(), path: z.string(), defaulted: z.literal(true).optional() })
  .openapi('ReadinessLink', { description: 'The config that makes an answer true: a file, a key path and its line' });
const GapSchema = z.object({ severity: z.enum(['error', 'warning']), code: z.string(), message: z.string(), link: LinkSchema }).openapi('ReadinessGap');

/** src/readiness/types.ts: ReadinessReport. */
export const ReadinessReportSchema = z
  .object({
    generatedAt: z.string().openapi({ format: 'date-time' }),
    configFile: z.string(),
    policyVersion: z.string().nullable(),
    questions: z.array(
      z.object({
        id: z.enum(Object.keys(QUESTIONS) as [keyof typeof QUESTIONS, ...(keyof typeof QUESTIONS)[]]),
        question: z.string(),
        answer: z.string(),
        details: z.record(z.string(), z.unknown()),
        links: z.array(LinkSchema),
        gaps: z.array(GapSchema),
      }),
    ),
    gaps: z.array(GapSchema).openapi({ description: "Every question's gaps, errors first" }),
    ok: z.boolean().openapi({ description: 'No error-severity gap' }),
  })
  .openapi('ReadinessReport');
export type ReadinessReportBody = z.infer<typeof ReadinessReportSchema>;

const tags: [string] = ['Governance'];

export const governanceOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/policy',
    operationId: 'getPolicy',
    tags,
    roles: ['admin', 'operator'],
    summary: 'The policy set new decisions use',
    responses: { 200: jsonResponse('The policy set', PolicySetSchema), 503: jsonResponse('The policy set does not load', PolicyUnloadable) },
  },
  {
    method: 'get',
    path: '/v1/readiness',
    operationId: 'getReadiness',
    tags,
    roles: ['admin', 'operator'],
    summary: 'The governance readiness report: seven questions answered from the live configuration, with the gaps',
    responses: { 200: jsonResponse('The report', ReadinessReportSchema) },
  },
];
