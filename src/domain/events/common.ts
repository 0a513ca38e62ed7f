import { z } from 'zod';

/** A step's id inside its plan: short, printable, usable in idempotency keys. */
export const StepId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'step ids use letters, digits, "_", "." and "-"');

/** A run id: also the trace id and the tail of the stream name `run-<runId>`. */
export const RunId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, 'run ids use letters, digits, "_" and "-"');

/** ISO-8601 instant with an offset; time enters the domain as data, never from a clock. */
export const Instant = z.iso.datetime({ offset: true });

/** Any JSON object: tool inputs, edited inputs. */
export const JsonObject = z.record(z.string(), z.unknown());

/** How a failure is classified; the first three are retryable under the RETRY strategy. */
export const FailureMode = z.enum(['AGENT', 'SYSTEM', 'RESOURCE', 'POLICY', 'USER']);
export type FailureMode = z.infer<typeof FailureMode>;

/** What the run does when a step fails for good. */
export const ErrorStrategy = z.enum(['FAIL_FAST', 'RETRY', 'CONTINUE']);
export type ErrorStrategy = z.infer<typeof ErrorStrategy>;

/** Who did something: a principal id and the role it acted in. */
export const Principal = z.object({
  id: z.string().min(1).max(200),
  role: z.string().min(1).max(100),
});
export type Principal = z.infer<typeof Principal>;

/** An error as it is recorded: a message and an optional machine code, never a stack. */
export const RecordedError = z.object({
  message: z.string().max(10_000),
  code: z.string().max(200).optional(),
});
export type RecordedError = z.infer<typeof RecordedError>;

/** Risk levels, lowest first: the one order every comparison of risk uses (see riskRank). */
export const RiskLevel = z.enum(['low', 'medium', 'high', 'critical']);
export type RiskLevel = z.infer<typeof RiskLevel>;

/** Where a level stands in the risk order: compare two levels by their ranks. */
export function riskRank(level: RiskLevel): number {
  return RiskLevel.options.indexOf(level);
}

export const ReviewLevel = z.enum(['AUTO', 'QUICK', 'FULL']);
export type ReviewLevel = z.infer<typeof ReviewLevel>;

export const RoutingPolicyName = z.enum(['round_robin', 'capability', 'least_loaded']);
export type RoutingPolicyName = z.infer<typeof RoutingPolicyName>;

const Count = z.number().int().nonnegative();

/** Call limits of a run: total, per domain, per tool; over a limit either warn or block. */
export const BudgetLimits = z.object({
  totalCalls: Count.optional(),
  perDomain: z.record(z.string(), Count).default({}),
  perTool: z.record(z.string(), Count).default({}),
  onExceed: z.enum(['warn', 'block']).default('block'),
});
export type BudgetLimits = z.infer<typeof BudgetLimits>;

/** Which budget counter an event speaks of. */
export const BudgetScope = z.object({
  kind: z.enum(['total', 'domain', 'tool']),
  key: z.string().optional(),
});
export type BudgetScope = z.infer<typeof BudgetScope>;
