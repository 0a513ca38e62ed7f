import type { RecordedEvent, Subscription } from '../../domain/ports/event-store.js';

export interface LiveFeedOptions<T> {
  /** The first payload, before any event of the subscription (e.g. the current state); skipped when undefined. */
  readonly first?: () => Promise<T | undefined> | T | undefined;
  readonly onEnd?: () => void;
}

/**
 * A live feed over a store subscription: each event mapped (possibly after waiting), or skipped
 * when the mapper returns undefined. Not an async generator on purpose: `return()` closes the
 * subscription at once, even while `next()` waits for the next event (an async generator's
 * `return()` would queue behind that wait and hold the subscription open).
 */
export function liveFeed<T>(subscription: Subscription, map: (event: RecordedEvent) => Promise<T | undefined> | T | undefined, options: LiveFeedOptions<T> = {}): AsyncIterableIterator<T> {
  const { onEnd } = options;
  let first = options.first;
  let ended = false;
  const end = async (): Promise<IteratorResult<T>> => {
    if (!ended) {
      ended = true;
      onEnd?.();
      await subscription.close();
    }
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      if (first && !ended) {
        const read = first;
        first = undefined;
        const value = await read();
        if (ended) return { done: true, value: undefined };
        if (value !== undefined) return { done: false, value };
      }
      for (;;) {
        if (ended) return { done: true, value: undefined };
        const result = await subscription.next();
        if (result.done || ended) return end();
        const value = await map(result.value);
        if (ended) return { done: true, value: undefined };
        if (value !== undefined) return { done: false, value };
      }
    },
    return: end,
    async throw(error?: unknown): Promise<IteratorResult<T>> {
      await end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
