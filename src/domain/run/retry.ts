import { z } from 'zod';

/** Exponential backoff with jitter: delay = min(maxDelay, base * factor^(attempt-1)) scaled by jitter. */
export const RetryPolicy = z.object({
  maxAttempts: z.number().int().positive().max(100).default(3),
  baseDelayMs: z.number().int().nonnegative().default(200),
  factor: z.number().min(1).default(2),
  maxDelayMs: z.number().int().nonnegative().default(30_000),
  /** Share of the delay that is random: 0 = none, 1 = "full jitter". */
  jitter: z.number().min(0).max(1).default(0.5),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const defaultRetryPolicy: RetryPolicy = RetryPolicy.parse({});

/**
 * The wait before attempt `attempt + 1`, given a random number in [0, 1) from outside the domain
 * (the domain takes no randomness of its own).
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** Math.max(0, attempt - 1));
  const jittered = exponential * (1 - policy.jitter) + exponential * policy.jitter * random;
  return Math.round(jittered);
}
