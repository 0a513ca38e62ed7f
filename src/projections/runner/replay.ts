import type { EventStore, Position, RecordedEvent } from '../../domain/ports/event-store.js';
import type { ReadModelState } from '../documents.js';
import { asProjected, type Projection } from '../projection.js';
import type { ReadModelStore } from '../read-model-store.js';
import { type Handle, HandleStorage } from './handles.js';
import { rebuildFilter } from './rebuild-progress.js';

/**
 * Events per `readAll` while catching up (the runner's and a rebuild thread's). Small pages keep few
 * events alive at a time: larger ones were slower (more of each page survives a young-generation GC).
 */
export const CATCH_UP_PAGE = 512;

/** The event a projection's evolve threw on, and why: what `ProjectionError` is made of. */
export interface ReplayFailure {
  readonly projection: string;
  readonly event: { readonly streamId: string; readonly revision: number; readonly type: string; readonly position: Position };
  readonly cause: unknown;
}

/** How a replay ended: every projection at `head`, or stopped by the first event one could not apply. */
export type ReplayOutcome =
  | { readonly ok: true; readonly events: number; readonly commitMs: number }
  | { readonly ok: false; readonly events: number; readonly failure: ReplayFailure };

/** What `replayFromStart` needs: the log, the read-model store, and the projections to rebuild. */
export interface ReplayOptions {
  readonly store: EventStore;
  readonly readModels: ReadModelStore;
  readonly projections: ReadonlyArray<Projection<ReadModelState>>;
  /** The head of `$all` when the rebuild began: the replay ends there. */
  readonly head: Position | undefined;
  readonly maxBatch: number;
  readonly cacheSize: number;
}

/**
 * A rebuild's replay away from the runner (a worker thread runs it on its own connections): resets
 * these projections, folds every event of their types up to `head` with the runner's own
 * `ProjectionFold` and `HandleStorage`, and commits documents with their checkpoint every
 * `maxBatch` events, as the runner's catch-up does, so a crash resumes from the last commit. It
 * does not build the indexes (the runner does, once every rebuilt projection is done).
 */
export async function replayFromStart(options: ReplayOptions): Promise<ReplayOutcome> {
  const { store, readModels, head } = options;
  const compare = (a: Position, b: Position) => store.comparePositions(a, b);
  let handles: Handle[] = [];
  const storage = new HandleStorage(readModels, compare, options.cacheSize, () => storage.commit(handles));
  handles = options.projections.map((p) => storage.create(p));
  for (const h of handles) storage.declare(h);
  // Again after the runner's reset (cheap: the tables are empty): this connection's store then
  // knows them unindexed and does not rebuild their indexes while they fill.
  readModels.reset(handles.map((h) => ({ name: h.projection.name, version: h.projection.version })));
  for (const h of handles) {
    h.fold = storage.newFold(h, true);
    h.status = 'running';
  }
  const filter = rebuildFilter(handles.map((h) => h.projection.eventTypes));
  let after: Position | undefined;
  let events = 0;
  let pending = 0;
  // Time in commits, waits for the other thread's write lock included (the bench reports it).
  let commitMs = 0;
  const commit = () => {
    const t = performance.now();
    storage.commit(handles);
    commitMs += performance.now() - t;
  };
  if (head !== undefined) {
    for (;;) {
      const page = await store.readAll({ ...(after === undefined ? {} : { after }), maxCount: CATCH_UP_PAGE, filter });
      for (let i = 0; i < page.length; i++) {
        const event = asProjected(page[i] as RecordedEvent);
        if (compare(event.position, head) > 0) break;
        for (const h of handles) {
          try {
            h.fold.apply(event);
          } catch (cause) {
            // The failed evolve may have changed documents half-way: nothing after the last commit is saved.
            const { streamId, revision, type, position } = event;
            return { ok: false, events, failure: { projection: h.projection.name, event: { streamId, revision, type, position }, cause } };
          }
        }
        events++;
      }
      const last = page[page.length - 1];
      if (last) after = last.position;
      if (page.length < CATCH_UP_PAGE || (after !== undefined && compare(after, head) >= 0)) break;
      pending += page.length;
      if (pending >= options.maxBatch) {
        commit();
        pending = 0;
      }
    }
    // Every event of their types up to `head` is applied: so `head` itself, as the runner records it.
    for (const h of handles) h.fold.applied = head;
  }
  commit();
  return { ok: true, events, commitMs };
}

/** What the runner hands a `RebuildWorker`: which projections, up to which head, how it saves. */
export interface ReplayJob {
  readonly names: readonly string[];
  readonly head: Position | undefined;
  readonly maxBatch: number;
  readonly cacheSize: number;
}

/**
 * A rebuild's second thread: replays some projections (`replayFromStart`, the same folds) on
 * connections of its own while the runner replays the others. Stopping it loses nothing a
 * commit saved: the next start resumes from the checkpoints, as after a crash.
 */
export interface RebuildWorker {
  /** The projections it can replay (by name); the runner sends it the first of these it rebuilds. */
  readonly projections: readonly string[];
  start(job: ReplayJob): { readonly outcome: Promise<ReplayOutcome>; stop(): Promise<void> };
}
