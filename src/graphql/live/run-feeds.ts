import { runStreamId } from '../../domain/run/state.js';
import { runQueries, runsProjection } from '../../projections/index.js';
import type { GatehouseServices } from '../context.js';
import { afterRevision, toRunEvent } from '../readers/run-events.js';
import type { Run } from '../types/run.js';
import type { RunEvent } from '../types/run-event.js';
import { liveFeed } from './feed.js';

/**
 * A run's events after `after` (a cursor from runEvents), then live: the store's stream
 * subscription catches up and goes live with no gap and no duplicate, so a client that
 * reconnects with its last cursor misses nothing and sees nothing twice.
 */
export function runEventsFeed(services: GatehouseServices, runId: string, after: string | undefined): AsyncIterableIterator<RunEvent> {
  const from = afterRevision(runId, after);
  const subscription = services.store.subscribeToStream(runStreamId(runId), from < 0 ? {} : { afterRevision: from });
  return liveFeed(subscription, (e) => toRunEvent(runId, e));
}

/** The run's read model (progress, stage, steps) after each of its events, from now on. */
export function runProgressFeed(services: GatehouseServices, runId: string): AsyncIterableIterator<Run> {
  const subscription = services.store.subscribeToStream(runStreamId(runId), { afterRevision: 'end' });
  return liveFeed(subscription, async (e) => {
    await services.projections.waitFor(e.position, 10_000, [runsProjection.name]);
    return runQueries.run(services.projections.read(runsProjection), runId) as Run | undefined;
  });
}
