import type { CodecOptions } from '../../src/adapters/eventstore/shared/codec.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';

/** What the contract suite needs from an adapter under test. */
export interface StoreHarness {
  readonly store: EventStore;
  /**
   * Opens another store on the same underlying log with other options (catalog, limits), as a
   * restarted process with changed code would. Absent where the log lives only in one instance.
   */
  readonly reopen?: (options: CodecOptions) => Promise<EventStore>;
  cleanup(): Promise<void>;
}

export type StoreFactory = (options?: CodecOptions) => Promise<StoreHarness>;

/** Collects `count` events from an async iterator, failing after `timeoutMs`. */
export async function take<T>(iter: AsyncIterator<T>, count: number, timeoutMs = 20_000): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`timed out after ${out.length} of ${count} events`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${out.length} of ${count} events`)), remaining);
    });
    try {
      const r = await Promise.race([iter.next(), timeout]);
      if (r.done) throw new Error(`iterator ended after ${out.length} of ${count} events`);
      out.push(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/** Resolves to 'pending' if the promise has not settled after `ms`. */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([promise, pending]);
  } finally {
    clearTimeout(timer);
  }
}
