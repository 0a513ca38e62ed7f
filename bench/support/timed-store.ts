import { performance } from 'node:perf_hooks';
import type { EventStore } from '../../src/domain/ports/event-store.js';

/**
 * Wraps a store so the time spent in it can be measured: the time until each call returns its
 * promise plus the time until it settles, counted once when calls overlap (wall time during which
 * at least one store call was under way).
 */
export function timedStore(store: EventStore): { store: EventStore; elapsedMs: () => number; reset: () => void } {
  let total = 0;
  let active = 0;
  let since = 0;
  const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (active++ === 0) since = performance.now();
      try {
        return await fn(...args);
      } finally {
        if (--active === 0) total += performance.now() - since;
      }
    };
  const timed: EventStore = {
    append: wrap(store.append.bind(store)),
    readStream: wrap(store.readStream.bind(store)),
    readAll: wrap(store.readAll.bind(store)),
    headPosition: wrap(store.headPosition.bind(store)),
    subscribeToAll: store.subscribeToAll.bind(store),
    subscribeToStream: store.subscribeToStream.bind(store),
    comparePositions: store.comparePositions.bind(store),
    close: store.close.bind(store),
  };
  return { store: timed, elapsedMs: () => total, reset: () => { total = 0; } };
}
