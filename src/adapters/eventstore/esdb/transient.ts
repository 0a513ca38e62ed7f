import { CancelledError, UnavailableError } from '@eventstore/db-client';

/** How often, and how patiently, a call the server answered UNAVAILABLE is sent again. */
export interface UnavailableRetry {
  /** Calls in all, the first included. Default 8. */
  readonly attempts?: number;
  /** The wait before the second call; doubled after each, capped at `maxDelayMs`. Default 100 ms. */
  readonly firstDelayMs?: number;
  /** Default 2,000 ms: with the defaults a blip of about 7 s is waited out. */
  readonly maxDelayMs?: number;
  /**
   * The most the waits between the calls may add up to; no retry is sent whose wait would pass it
   * (unbounded by default). Counted in planned waits, not wall time, so how many calls are sent
   * does not depend on the machine's speed.
   */
  readonly waitBudgetMs?: number;
}

/** The error once the budget is spent: names the store, the attempts and the time, with the client's error as cause. */
export class EventStoreUnavailableError extends Error {
  constructor(target: string, attempts: number, ms: number, cause: unknown) {
    super(`event store ${target} unavailable after ${attempts} attempts in ${(ms / 1000).toFixed(1)} s: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'EventStoreUnavailableError';
  }
}

/**
 * Runs `call` and, while it fails with the client's UnavailableError (gRPC status 14: no
 * connection, or "Channel closed before call started" after the client dropped a failed channel)
 * or CancelledError (see isUnavailable),
 * runs it again after a doubling wait. Only for calls that are safe to send twice: the caller
 * decides. Every other error is thrown as it came, at once.
 */
export async function retryUnavailable<T>(call: () => Promise<T>, target: string, retry: UnavailableRetry = {}): Promise<T> {
  const attempts = Math.max(1, retry.attempts ?? 8);
  const first = retry.firstDelayMs ?? 100;
  const cap = retry.maxDelayMs ?? 2_000;
  const budget = retry.waitBudgetMs ?? Number.POSITIVE_INFINITY;
  const started = performance.now();
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      const wait = Math.min(cap, first * 2 ** (attempt - 1));
      if (attempt >= attempts || waited + wait > budget) throw new EventStoreUnavailableError(target, attempt, performance.now() - started, error);
      waited += wait;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * UNAVAILABLE (14), and CANCELLED (1) on a call this adapter never cancels itself (reads and
 * appends; subscriptions are not retried here): the client treats both as a reason to reconnect,
 * and the cluster e2e saw a start refused with "1 CANCELLED: Call cancelled" under load. The client
 * converts most gRPC errors; the server-features call it makes first passes the raw status through.
 */
function isUnavailable(error: unknown): boolean {
  if (error instanceof UnavailableError || error instanceof CancelledError) return true;
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return code === 14 || code === 1;
}

/** The connection string without user and password: it goes into messages and logs. */
export function storeTarget(connectionString: string): string {
  return connectionString.replace(/\/\/[^@/]*@/, '//');
}
