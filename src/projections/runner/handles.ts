import type { Position } from '../../domain/ports/event-store.js';
import { type Collection, type ReadModelState, takeStateChanges } from '../documents.js';
import { type Projection, type ProjectionError, ProjectionFold } from '../projection.js';
import type { ProjectionCommit, ReadModelStore } from '../read-model-store.js';

/** Where a projection is: following the log, stopped by an event it could not apply, or not started. */
export type ProjectionStatus = 'running' | 'failed' | 'stopped';

/** One projection inside the runner: its fold, its status and the cursor last saved. */
export interface Handle {
  readonly projection: Projection<ReadModelState>;
  fold: ProjectionFold<ReadModelState>;
  status: ProjectionStatus;
  declared: boolean;
  error?: ProjectionError;
  saved: Position | undefined;
  /** Being rebuilt by a rebuild thread: the runner's loop leaves it alone until the thread is done. */
  away?: boolean;
}

/** What `ProjectionRunner.status()` says of one projection. */
export interface HandleStatus {
  name: string;
  version: number;
  status: ProjectionStatus;
  applied: Position | undefined;
  error?: ProjectionError;
}

/** A handle as `status()` reports it. */
export function describeHandle(h: Handle): HandleStatus {
  return { name: h.projection.name, version: h.projection.version, status: h.status, applied: h.fold.applied, error: h.error };
}

/**
 * Moves projections between their folds and the read-model store: declaring their collections,
 * loading what was saved, committing what changed. The runner decides when.
 */
export class HandleStorage {
  constructor(
    private readonly readModels: ReadModelStore,
    private readonly compare: (a: Position, b: Position) => number,
    private readonly cacheSize: number,
    /** Saves every running projection: a paged-out collection calls it when its cache is full of unsaved documents. */
    private readonly flush: () => void,
  ) {}

  /** A handle not loaded yet. */
  create(projection: Projection<ReadModelState>): Handle {
    return { projection, fold: new ProjectionFold(projection, this.compare), status: 'stopped', saved: undefined, declared: false };
  }

  /**
   * Tells the store about the projection's collections (tables, columns, indexes). False when a
   * stored layout had to be replaced, so the projection must be rebuilt.
   */
  declare(handle: Handle): boolean {
    if (handle.declared) return true;
    handle.declared = true;
    let kept = true;
    for (const [collection, c] of Object.entries(handle.projection.initialState())) {
      if (!this.readModels.declare({ projection: handle.projection.name, collection, spec: c.spec })) kept = false;
    }
    return kept;
  }

  /**
   * A fold from the initial state, its paged-out collections reading the store on a miss
   * (`empty`: the projection's documents were just dropped, so only for ids saved since).
   */
  newFold(handle: Handle, empty = false): ProjectionFold<ReadModelState> {
    const fold = new ProjectionFold(handle.projection, this.compare);
    for (const [collection, c] of Object.entries(fold.state)) {
      if (c.spec.resident) continue;
      c.attach({ source: this.readModels.source(handle.projection.name, collection), flush: this.flush, cacheSize: this.cacheSize, emptyAtStart: empty });
    }
    return fold;
  }

  /** A projection whose stored documents a rebuild just dropped: from the initial state, stopped until the loop starts it. */
  restart(handle: Handle): void {
    handle.fold = this.newFold(handle, true); // its tables are empty
    handle.saved = undefined;
    handle.error = undefined;
    handle.status = 'stopped';
  }

  /** A refill from the start caught up: its collections drop what only the refill needed. */
  settle(handle: Handle): void {
    for (const c of Object.values(handle.fold.state)) c.forgetSaved();
  }

  /**
   * Loads a projection's cursor and its resident collections (the paged-out ones are read on
   * demand): start-up costs what is kept in memory, not the history.
   */
  load(handle: Handle): void {
    const { projection } = handle;
    const layoutKept = this.declare(handle);
    const stored = this.readModels.load(projection.name);
    const startOver = !stored || stored.version !== projection.version || !layoutKept;
    handle.fold = this.newFold(handle, startOver);
    handle.error = undefined;
    if (startOver) {
      // New, or built by other code: start over from the beginning of the log.
      this.readModels.reset([{ name: projection.name, version: projection.version }]);
      handle.saved = undefined;
    } else {
      for (const [collection, target] of Object.entries(handle.fold.state) as Array<[string, Collection<unknown>]>) {
        if (!target.spec.resident) continue;
        for (const { id, doc } of this.readModels.documents(projection.name, collection)) target.restore(id, doc);
      }
      handle.fold.applied = stored.checkpoint;
      handle.saved = stored.checkpoint;
    }
    handle.status = 'running';
  }

  /** Writes these running projections' changed documents and cursors in one transaction. */
  commit(handles: readonly Handle[]): void {
    const commits: Array<{ handle: Handle; commit: ProjectionCommit }> = [];
    for (const h of handles) {
      if (h.status !== 'running') continue;
      const applied = h.fold.applied;
      if (applied === undefined) continue;
      const changes = takeStateChanges(h.fold.state);
      if (changes.length === 0 && applied === h.saved) continue;
      commits.push({ handle: h, commit: { name: h.projection.name, version: h.projection.version, checkpoint: applied, changes } });
    }
    if (commits.length === 0) return;
    this.readModels.commit(commits.map((c) => c.commit));
    for (const c of commits) c.handle.saved = c.commit.checkpoint;
  }
}
