import type { ReadModelState } from '../documents.js';
import type { ReadModelStore, SweptDocuments } from '../read-model-store.js';

/** Calls `tick` every `intervalMs` until the returned function is called (the sweep's timer). */
export type Every = (intervalMs: number, tick: () => void) => () => void;

/** The default timer: `setInterval`, unref'd so it alone does not keep a process alive. */
export const everyInterval: Every = (intervalMs, tick) => {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};

/** How long finished runs stay in the read models, and how often that is enforced. */
export interface RetentionOptions {
  readonly finishedRunsDays: number;
  /** Time between two periodic sweeps. Default 1 hour. */
  readonly sweepIntervalMs?: number;
  /** The periodic sweep's timer (tests drive it by hand). Default `everyInterval`. */
  readonly every?: Every;
}

/** What the sweep needs from the runner: its projections' states, a save, the clock, where failures go. */
export interface RetentionHost {
  readonly readModels: ReadModelStore;
  /** Each projection's name and current state. */
  readonly states: () => Iterable<{ readonly name: string; readonly state: ReadModelState }>;
  /** Writes what is applied, so the sweep sees it in the store. */
  readonly save: () => void;
  readonly now: () => number;
  readonly onError: (error: unknown) => void;
}

/**
 * Retention of the read models: drops runs over for good that ended before the cutoff, on demand
 * and every `sweepIntervalMs` (default 1 hour) while scheduled. Does nothing without options.
 */
export class RetentionSweep {
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly retention: RetentionOptions | undefined,
    private readonly host: RetentionHost,
  ) {}

  /** Starts the periodic sweep (once; the default timer alone does not keep a process alive). */
  schedule(): void {
    if (!this.retention || this.cancelTimer) return;
    const every = this.retention.every ?? everyInterval;
    this.cancelTimer = every(this.retention.sweepIntervalMs ?? 3_600_000, () => this.sweepSafely());
  }

  /** Stops the periodic sweep. */
  cancel(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /**
   * Saves, then drops from the store the runs over for good that ended before the cutoff (`now`
   * minus `finishedRunsDays`) with their per-run documents, in one transaction, and forgets them
   * from the caches. Wall clock here, outside the folds. Nothing without retention.
   */
  sweep(): SweptDocuments {
    const retention = this.retention;
    if (!retention) return [];
    const { readModels, save, now } = this.host;
    save();
    const before = new Date(now() - retention.finishedRunsDays * 86_400_000).toISOString();
    const states = new Map<string, ReadModelState>();
    const perRun: Array<{ projection: string; collection: string }> = [];
    for (const { name, state } of this.host.states()) {
      states.set(name, state);
      for (const [collection, c] of Object.entries(state)) if (c.spec.perRun) perRun.push({ projection: name, collection });
    }
    const swept = readModels.sweep(before, perRun);
    for (const { projection, collection, ids } of swept) states.get(projection)?.[collection]?.forget(ids);
    return swept;
  }

  /** A sweep whose failure is reported, not thrown (it runs from timers and the follow loop). */
  sweepSafely(): void {
    try {
      this.sweep();
    } catch (error) {
      this.host.onError(error);
    }
  }
}
