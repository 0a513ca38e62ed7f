import type { EventStore, Position } from '../../domain/ports/event-store.js';
import type { ProjectionStatus } from './handles.js';

/** How far one projection is behind the head of `$all`. */
export interface ProjectionLag {
  readonly name: string;
  readonly status: ProjectionStatus;
  readonly applied: Position | undefined;
  /** Events in `$all` after the applied cursor (counted up to `lagCountLimit`). */
  readonly eventsBehind: number;
  /** Age of the oldest event not yet applied; 0 when caught up. */
  readonly secondsBehind: number;
}

/** A projection as the lag sees it. */
export interface LagSubject {
  readonly name: string;
  readonly status: ProjectionStatus;
  readonly applied: Position | undefined;
}

/** Counts, for each projection, the events after its cursor (up to `limit`) and the age of the first. */
export async function measureLag(store: EventStore, subjects: readonly LagSubject[], limit: number, now: () => number): Promise<ProjectionLag[]> {
  const head = await store.headPosition();
  // Projections at the same cursor share one count.
  const cache = new Map<string, { events: number; seconds: number }>();
  const out: ProjectionLag[] = [];
  for (const { name, status, applied } of subjects) {
    let behind = { events: 0, seconds: 0 };
    if (head !== undefined && (applied === undefined || store.comparePositions(applied, head) < 0)) {
      const key = applied ?? '';
      behind = cache.get(key) ?? (await countAfter(store, applied, limit, now));
      cache.set(key, behind);
    }
    out.push({ name, status, applied, eventsBehind: behind.events, secondsBehind: behind.seconds });
  }
  return out;
}

async function countAfter(store: EventStore, applied: Position | undefined, limit: number, now: () => number): Promise<{ events: number; seconds: number }> {
  const events = await store.readAll({ after: applied, maxCount: limit });
  const oldest = events[0];
  return { events: events.length, seconds: oldest ? Math.max(0, (now() - oldest.recordedAt.getTime()) / 1000) : 0 };
}
