import type { RunState } from '../domain/run/state.js';
import { TERMINAL_RUN } from '../domain/run/state.js';

/**
 * What the engine holds of one run between appends: a cache of the fold (`revision` -2: read the
 * log first; -1: no stream yet), the queue that serializes its work, its calls and its timer.
 */
export interface RunHandle {
  state: RunState;
  revision: number;
  /** The log may hold events after `revision`: read those (only those) before deciding. */
  behind?: boolean;
  lastHash?: string;
  queue: Promise<unknown>;
  pending: number;
  readonly calls: Map<string, AbortController>;
  timer?: NodeJS.Timeout;
  timerAt?: string;
}

/**
 * How many finished runs' last revisions are kept: enough for the follower, which sees a run's
 * events shortly after the engine has finished and forgotten it, to skip reading it back.
 */
const FINISHED_REMEMBERED = 1_024;

/** The runs this engine holds in memory; only a cache of the log, dropped as soon as a run is idle and done. */
export class RunHandles {
  private readonly runs = new Map<string, RunHandle>();
  /** Runs finished and forgotten here → their last revision (bounded): the follower need not read them back. */
  private readonly finished = new Map<string, number>();

  /** `keepIdle` false: an API-only engine keeps nothing, since others move its runs on. */
  constructor(private readonly keepIdle: boolean) {}

  /** The handle of a run, if this engine holds it. */
  get(runId: string): RunHandle | undefined {
    return this.runs.get(runId);
  }

  /** The handle of a run, made (to be read from the log) if this engine does not hold it. */
  open(runId: string): RunHandle {
    const existing = this.runs.get(runId);
    if (existing) return existing;
    const handle: RunHandle = { state: undefined as unknown as RunState, revision: -2, queue: Promise.resolve(), pending: 0, calls: new Map() };
    this.runs.set(runId, handle);
    return handle;
  }

  /** The last revision of a run this engine finished and let go of (the most recent runs only). */
  finishedRevision(runId: string): number | undefined {
    return this.runs.has(runId) ? undefined : this.finished.get(runId);
  }

  /** Every handle held now. */
  all(): IterableIterator<RunHandle> {
    return this.runs.values();
  }

  /**
   * Drops an idle run from memory once it is finished (its state lives in the log), or when it
   * has no stream at all (a refused command on a made-up id must leave nothing behind); an
   * API-only engine keeps nothing, since others move its runs on.
   */
  maybeForget(runId: string, handle: RunHandle): void {
    const done = handle.revision >= 0 && TERMINAL_RUN.has(handle.state.status);
    const nothing = handle.revision < 0;
    if (handle.pending === 0 && handle.calls.size === 0 && (done || nothing || !this.keepIdle)) {
      if (handle.timer) clearTimeout(handle.timer);
      if (this.runs.get(runId) === handle) this.runs.delete(runId);
      if (done) this.rememberFinished(runId, handle.revision);
    }
  }

  /** Oldest first out: a run missing here is only read once more, never decided wrongly. */
  private rememberFinished(runId: string, revision: number): void {
    this.finished.delete(runId);
    this.finished.set(runId, revision);
    if (this.finished.size > FINISHED_REMEMBERED) this.finished.delete(this.finished.keys().next().value as string);
  }
}
