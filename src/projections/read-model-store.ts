import type { Position } from '../domain/ports/event-store.js';
import type { DocumentChange } from './documents.js';

/** What is stored of one projection: the code version it was built with, its cursor, its documents. */
export interface StoredProjection {
  readonly version: number;
  readonly checkpoint: Position | undefined;
  readonly documents: ReadonlyArray<{ readonly collection: string; readonly id: string; readonly doc: string }>;
}

/** One projection's part of a save: its changed documents and the cursor they cover. */
export interface ProjectionCommit {
  readonly name: string;
  readonly version: number;
  readonly checkpoint: Position;
  readonly changes: readonly DocumentChange[];
}

/**
 * Where read models and their checkpoints are kept. `commit` is atomic: the documents and the
 * checkpoints they cover are written together or not at all, so a restart resumes from a cursor
 * whose effects are all there and none after it.
 */
export interface ReadModelStore {
  load(name: string): StoredProjection | undefined;
  commit(commits: readonly ProjectionCommit[]): void;
  /**
   * Drops these projections' documents and checkpoints and records the versions they will be
   * rebuilt with, all in one step.
   */
  reset(projections: ReadonlyArray<{ readonly name: string; readonly version: number }>): void;
  close(): void;
}
