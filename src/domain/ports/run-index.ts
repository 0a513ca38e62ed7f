import type { Position } from './event-store.js';

/** The runs that are not finished, as of a cursor in `$all`: what recovery starts from. */
export interface RunIndexSnapshot {
  readonly cursor?: Position;
  readonly active: readonly string[];
}

/** Keeps the active-run index between starts, so recovery does not replay all of `$all`. */
export interface RunIndexStore {
  load(): Promise<RunIndexSnapshot>;
  save(snapshot: RunIndexSnapshot): Promise<void>;
  close(): Promise<void>;
}
