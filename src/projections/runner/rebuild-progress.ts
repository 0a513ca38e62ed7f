import type { AllFilter, Position } from '../../domain/ports/event-store.js';

/** Reported while a rebuild replays the log. */
export interface RebuildProgress {
  readonly projections: readonly string[];
  readonly events: number;
  readonly position: Position | undefined;
  readonly head: Position | undefined;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  readonly done: boolean;
}

/** Events between two progress reports. */
const PROGRESS_EVERY = 50_000;

/** A rebuild under way: which projections, up to which head, how many events so far. */
export class RebuildRun {
  private readonly started = performance.now();
  private events = 0;

  constructor(
    readonly names: readonly string[],
    readonly head: Position | undefined,
    private readonly onProgress: ((progress: RebuildProgress) => void) | undefined,
  ) {}

  /** Counts one replayed event; reports progress every `PROGRESS_EVERY` events. `position` is read only then. */
  counted(position: () => Position | undefined): void {
    if (++this.events % PROGRESS_EVERY === 0) this.onProgress?.(this.progress(position(), false));
  }

  /** Counts events replayed elsewhere (a rebuild thread), reported with the next progress. */
  add(events: number): void {
    this.events += events;
  }

  /** Reports the final progress. */
  finished(position: Position | undefined): void {
    this.onProgress?.(this.progress(position, true));
  }

  private progress(position: Position | undefined, done: boolean): RebuildProgress {
    const elapsedMs = performance.now() - this.started;
    return {
      projections: this.names,
      events: this.events,
      position,
      head: this.head,
      elapsedMs,
      eventsPerSecond: elapsedMs > 0 ? Math.round((this.events / elapsedMs) * 1000) : 0,
      done,
    };
  }
}

/** The union of the event types of the projections being rebuilt: the store reads only those. */
export function rebuildFilter(eventTypes: Iterable<readonly string[]>): AllFilter {
  const types = new Set<string>();
  for (const list of eventTypes) for (const type of list) types.add(type);
  return { eventTypes: [...types] };
}
