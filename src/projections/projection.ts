import type { EventMetadata } from '../domain/events/metadata.js';
import type { RunEvent, RunEventType } from '../domain/events/index.js';
import type { Position, RecordedEvent } from '../domain/ports/event-store.js';
import type { ReadModelState } from './documents.js';

/** A run event as a projection sees it: typed data plus its place in the log. */
export type ProjectedEvent = RunEvent & {
  readonly id: string;
  readonly streamId: string;
  readonly revision: number;
  readonly position: Position;
  readonly recordedAt: Date;
  readonly metadata: EventMetadata;
};

/**
 * A read model: a fold of `$all`. `evolve` is deterministic: its result depends only on the state
 * and the event (no clock, no I/O, no randomness; time comes from `recordedAt`). It may update the
 * state's documents in place and returns the state. Bump `version` when the fold changes: the
 * runner then rebuilds the stored model from the start.
 */
export interface Projection<S extends ReadModelState = ReadModelState> {
  readonly name: string;
  readonly version: number;
  /** The event types `evolve` reads; others only advance the checkpoint. */
  readonly eventTypes: readonly RunEventType[];
  initialState(): S;
  evolve(state: S, event: ProjectedEvent): S;
}

/** Narrows a recorded event of the run catalog to the typed form (the store parsed its data). */
export function asProjected(event: RecordedEvent): ProjectedEvent {
  return event as unknown as ProjectedEvent;
}

/** An event that made a projection's evolve throw; the projection stops, the others go on. */
export class ProjectionError extends Error {
  constructor(
    readonly projection: string,
    readonly event: { readonly streamId: string; readonly revision: number; readonly type: string; readonly position: Position },
    override readonly cause: unknown,
  ) {
    super(
      `projection ${projection} stopped at ${event.type} ${event.streamId}@${event.revision} (position ${event.position}): ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
    this.name = 'ProjectionError';
  }
}

/**
 * A projection's state with the cursor it has applied. `apply` skips an event at or before that
 * cursor, so delivering an event twice changes nothing.
 */
export class ProjectionFold<S extends ReadModelState = ReadModelState> {
  state: S;
  applied: Position | undefined;
  private readonly handles: ReadonlySet<string>;

  constructor(
    readonly projection: Projection<S>,
    private readonly compare: (a: Position, b: Position) => number,
    state?: S,
    applied?: Position,
  ) {
    this.state = state ?? projection.initialState();
    this.applied = applied;
    this.handles = new Set(projection.eventTypes);
  }

  /**
   * Applies the event if it is after the applied cursor; returns whether it did. Every event is
   * checked, not only a feed's first: a resubscription or a redelivery may repeat any of them.
   */
  apply(event: ProjectedEvent): boolean {
    if (this.applied !== undefined && this.compare(event.position, this.applied) <= 0) return false;
    if (this.handles.has(event.type)) this.state = this.projection.evolve(this.state, event);
    this.applied = event.position;
    return true;
  }

  /** Applies events from an ordered feed (the store's `$all` order). */
  applyFeed(events: Iterable<ProjectedEvent>): void {
    for (const event of events) this.apply(event);
  }
}

// The events of one group commit share their recordedAt, and every projection formats it: one
// string per instant instead of one per event and projection.
let lastMs = Number.NaN;
let lastIso = '';

/** `event.recordedAt` as an ISO string, shared by consecutive events recorded at the same instant. */
export function isoAt(event: ProjectedEvent): string {
  const ms = event.recordedAt.getTime();
  if (ms !== lastMs) {
    lastIso = event.recordedAt.toISOString();
    lastMs = ms;
  }
  return lastIso;
}
