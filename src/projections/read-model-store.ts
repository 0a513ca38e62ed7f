import type { Position } from '../domain/ports/event-store.js';
import type { CollectionSpec, DocumentChange, DocumentSource } from './documents.js';

/** What is stored of one projection: the code version it was built with and its cursor. */
export interface StoredProjection {
  readonly version: number;
  readonly checkpoint: Position | undefined;
}

/** One projection's part of a save: its changed documents and the cursor they cover. */
export interface ProjectionCommit {
  readonly name: string;
  readonly version: number;
  readonly checkpoint: Position;
  readonly changes: readonly DocumentChange[];
}

/** A collection as the store is told about it: its name, index columns and indexes. */
export interface CollectionDeclaration {
  readonly projection: string;
  readonly collection: string;
  readonly spec: Pick<CollectionSpec<unknown>, 'columns' | 'indexes' | 'expiresAt' | 'counted'>;
}

/** What a retention sweep removed: per projection and collection, the ids it deleted. */
export type SweptDocuments = Array<{ readonly projection: string; readonly collection: string; readonly ids: readonly string[] }>;

/**
 * Where read models and their checkpoints are kept. `commit` is atomic: the documents and the
 * checkpoints they cover are written together or not at all, so a restart resumes from a cursor
 * whose effects are all there and none after it.
 */
export interface ReadModelStore {
  /**
   * Makes sure a collection has its place (an indexed one: its own table with its columns and
   * indexes). Returns false when its stored layout had to be replaced: the projection must be rebuilt.
   */
  declare(declaration: CollectionDeclaration): boolean;
  load(name: string): StoredProjection | undefined;
  /** Every stored document of one collection, for collections kept whole in memory. */
  documents(projection: string, collection: string): Array<{ readonly id: string; readonly doc: string }>;
  /** Synchronous reads of one declared collection, for collections paged out to the store. */
  source(projection: string, collection: string): DocumentSource;
  commit(commits: readonly ProjectionCommit[]): void;
  /**
   * Drops these projections' documents and checkpoints and records the versions they will be
   * rebuilt with, all in one step.
   */
  reset(projections: ReadonlyArray<{ readonly name: string; readonly version: number }>): void;
  /**
   * A reset may leave the tables it emptied without their secondary indexes while they are
   * refilled (a rebuild); this creates them, once the refill has caught up. No-op otherwise.
   */
  buildIndexes(): void;
  /**
   * Retention: deletes, in one transaction, the documents of collections declaring `expiresAt`
   * whose time is before `before`, and the documents with the same ids in `perRun` collections.
   */
  sweep(before: string, perRun: ReadonlyArray<{ readonly projection: string; readonly collection: string }>): SweptDocuments;
  close(): void;
}
