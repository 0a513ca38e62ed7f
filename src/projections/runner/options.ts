import type { EventStore } from '../../domain/ports/event-store.js';
import type { FollowerHealth } from '../../following/health.js';
import type { Projection, ProjectionError } from '../projection.js';
import type { ReadModelStore } from '../read-model-store.js';
import type { RebuildWorker } from './replay.js';
import type { RetentionOptions } from './retention.js';

/**
 * The runner's `maxBatch` unless told otherwise. 5,000, not 50,000: a rebuild holds the documents
 * changed since its last save, and at 50,000 events they outlived the young generation (a quarter
 * of a replay's CPU was GC); the runs replay measured about 15 % less CPU per event at 5,000.
 */
export const DEFAULT_MAX_BATCH = 5_000;

/** What a `ProjectionRunner` is built from. */
export interface ProjectionRunnerOptions {
  readonly store: EventStore;
  readonly readModels: ReadModelStore;
  // biome-ignore lint: projections of different state types live side by side
  readonly projections: ReadonlyArray<Projection<any>>;
  /** Most events applied between two saves; the runner also saves whenever it has caught up. Default `DEFAULT_MAX_BATCH` (5,000). */
  readonly maxBatch?: number;
  /**
   * Least time between two saves while following live (the in-memory models, which queries and
   * `waitFor` use, are current at once; the stored ones follow within this). Default 50 ms.
   */
  readonly saveIntervalMs?: number;
  /** Most events counted by `lag()`. Default 100,000. */
  /**
   * How long `lag()` reuses a projection's count of events behind (a count reads up to
   * `lagCountLimit` events; /metrics asks on every scrape). At the head it reports 0 at once. Default 30 s.
   */
  readonly lagCacheMs?: number;
  readonly lagCountLimit?: number;
  /** A projection stopped on an event: reported here as well as by `status()` and `waitFor`. */
  readonly onError?: (error: ProjectionError) => void;
  /** The wall clock, for `secondsBehind`, the age of `lag()`'s counts and retention. */
  readonly now?: () => number;
  /** Where the runner says whether it follows the log live or is stalled (for /healthz). */
  readonly health?: FollowerHealth;
  /** The log or the read-model store failed: reported here, then the runner follows again after a backoff. */
  readonly onFollowError?: (error: unknown) => void;
  /**
   * Most clean decoded documents each paged-out collection keeps in memory (unsaved ones are kept
   * until the next save, at most `maxBatch` events' worth). Default 2,000.
   */
  readonly cacheSize?: number;
  /**
   * Retention: runs over for good that ended more than this many days ago (by `now`) are dropped
   * from the read models, with every per-run document (the log keeps them). A sweep runs after
   * catch-up, after a rebuild, and every `sweepIntervalMs` (default 1 hour). Default: keep all.
   */
  readonly retention?: RetentionOptions;
  /**
   * A second thread for `rebuild()`: when it rebuilds several projections, the ones this worker
   * takes (e.g. `runs`) replay there on their own connections while the runner replays the rest.
   * Without it (or for one projection), everything replays in the runner's thread.
   */
  readonly rebuildWorker?: RebuildWorker;
}
