import type { EventStore, Position } from '../../domain/ports/event-store.js';
import type { ProjectionStatus } from './handles.js';

/** How far one projection is behind the head of `$all`. */
export interface ProjectionLag {
  readonly name: string;
  readonly status: ProjectionStatus;
  readonly applied: Position | undefined;
  /** Events in `$all` after the applied cursor (counted up to `lagCountLimit`, at most `lagCacheMs` ago). */
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

interface Count {
  readonly events: number;
  readonly seconds: number;
}

/**
 * Measures the lag of projections for `lag()` and the /metrics gauge. Counting reads up to
 * `limit` events per distinct cursor, so a projection behind by position is recounted at most once
 * per `cacheMs` (by `now`); in between it reports its last count. A projection at the head reports
 * 0 at once, and concurrent calls share one measurement: a scrape during a catch-up or a rebuild
 * does not read the log again.
 */
export class LagMeter {
  private readonly counted = new Map<string, Count & { readonly at: number }>();
  private inFlight: Promise<ProjectionLag[]> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly limit: number,
    private readonly now: () => number,
    private readonly cacheMs: number,
  ) {}

  /** The lag of each subject; read when the measurement starts. */
  measure(subjects: () => readonly LagSubject[]): Promise<ProjectionLag[]> {
    this.inFlight ??= this.measureNow(subjects).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async measureNow(subjects: () => readonly LagSubject[]): Promise<ProjectionLag[]> {
    const { store } = this;
    const head = await store.headPosition();
    // Projections at the same cursor share one count.
    const fresh = new Map<string, Count>();
    const out: ProjectionLag[] = [];
    for (const { name, status, applied } of subjects()) {
      let behind: Count = { events: 0, seconds: 0 };
      if (head !== undefined && (applied === undefined || store.comparePositions(applied, head) < 0)) {
        const cached = this.counted.get(name);
        const at = this.now();
        if (cached && at - cached.at < this.cacheMs) behind = cached;
        else {
          const key = applied ?? '';
          behind = fresh.get(key) ?? (await countAfter(store, applied, this.limit, this.now));
          fresh.set(key, behind);
          this.counted.set(name, { ...behind, at });
        }
      } else this.counted.delete(name);
      out.push({ name, status, applied, eventsBehind: behind.events, secondsBehind: behind.seconds });
    }
    return out;
  }
}

async function countAfter(store: EventStore, applied: Position | undefined, limit: number, now: () => number): Promise<{ events: number; seconds: number }> {
  const events = await store.readAll({ after: applied, maxCount: limit });
  const oldest = events[0];
  return { events: events.length, seconds: oldest ? Math.max(0, (now() - oldest.recordedAt.getTime()) / 1000) : 0 };
}
