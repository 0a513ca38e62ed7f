import { NotFoundError } from '../../domain/errors.js';
import type { Position, RecordedEvent } from '../../domain/ports/event-store.js';
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

/**
 * The run's read model (progress, stage, steps) as it is now, then after each of its later events.
 * The store subscription starts after the newest event read here, and the first payload is the
 * read model once it has applied that event: an event committed in between is delivered by the
 * subscription, never missed (at worst a client sees the same state twice). Events that reach the
 * feed together (one commit, or a client behind) are sent as one state, the newest: the state read
 * for an event is the read model as it is then, so an earlier event of the same batch would only
 * repeat it (one message per event cost the server a read, an execution and a socket write each).
 */
export async function runProgressFeed(services: GatehouseServices, runId: string): Promise<AsyncIterableIterator<Run>> {
  const streamId = runStreamId(runId);
  const [last] = await services.store.readStream(streamId, { direction: 'backwards', maxCount: 1 });
  if (!last) throw new NotFoundError(`no run ${runId}`, { runId });
  const runAt = async (position: Position): Promise<Run | undefined> => {
    await services.projections.waitFor(position, 10_000, [runsProjection.name]);
    return runQueries.run(services.projections.read(runsProjection), runId) as Run | undefined;
  };
  const subscription = sharedFeeds(services.store).stream(streamId, last.revision);
  // Skipped only when a later event is already there: its state includes this one, and the last is always sent.
  return liveFeed(subscription, (e) => (subscription.hasNext() ? undefined : runAt(e.position)), { first: () => runAt(last.position) });
}
