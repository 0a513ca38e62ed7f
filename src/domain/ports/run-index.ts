import type { Position } from './event-store.js';

/** The runs that are not finished, as of a cursor in `$all`: what recovery starts from. */
export interface RunIndexSnapshot {
  readonly cursor?: Position;
  readonly active: readonly string[];
}

/** What changed in the index since its last save: runs that started or ended, and the new cursor. */
export interface RunIndexChange {
  readonly cursor?: Position;
  readonly started: readonly string[];
  readonly ended: readonly string[];
}

/** Keeps the active-run index between starts, so recovery does not replay all of `$all`. */
export interface RunIndexStore {
  load(): Promise<RunIndexSnapshot>;
  /** Applies a change atomically; costs what changed, not the number of open runs. */
  save(change: RunIndexChange): Promise<void>;
  close(): Promise<void>;
}
