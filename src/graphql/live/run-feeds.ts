import type { RecordedEvent } from '../../domain/ports/event-store.js';
import { runStreamId } from '../../domain/run/state.js';
import { runQueries, runsProjection } from '../../projections/index.js';
import type { GatehouseServices } from '../context.js';
import { afterRevision, toRunEvent } from '../readers/run-events.js';
import type { Run } from '../types/run.js';
import type { RunEvent } from '../types/run-event.js';
import { liveFeed } from './feed.js';
import { markSharedPayload, sharedFeeds } from './shared-feeds.js';

/**
 * A run's events after `after` (a cursor from runEvents), then live: the run's shared feed (one
 * store subscription for all its clients) with this client's own catch-up, with no gap and no
 * duplicate, so a client that reconnects with its last cursor misses nothing and sees nothing twice.
 */
export function runEventsFeed(services: GatehouseServices, runId: string, after: string | undefined): AsyncIterableIterator<RunEvent> {
  const from = afterRevision(runId, after);
  const subscription = sharedFeeds(services.store).stream(runStreamId(runId), from);
  return liveFeed(subscription, (e) => sharedRunEvent(runId, e));
}

/** Every client of a run sees the same recorded event: map it once. */
const mapped = new WeakMap<RecordedEvent, RunEvent>();
function sharedRunEvent(runId: string, e: RecordedEvent): RunEvent {
  let view = mapped.get(e);
  if (!view) {
    view = markSharedPayload(Object.freeze(toRunEvent(runId, e)));
    mapped.set(e, view);
  }
  return view;
}

/** The run's read model (progress, stage, steps) after each of its events, from now on. */
export function runProgressFeed(services: GatehouseServices, runId: string): AsyncIterableIterator<Run> {
  const subscription = sharedFeeds(services.store).stream(runStreamId(runId), 'end');
  return liveFeed(subscription, async (e) => {
    await services.projections.waitFor(e.position, 10_000, [runsProjection.name]);
    return runQueries.run(services.projections.read(runsProjection), runId) as Run | undefined;
  });
}
