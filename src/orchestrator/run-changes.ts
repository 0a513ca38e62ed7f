import type { RunState } from '../domain/run/state.js';

/** A listener told of a run's state after every append. */
export type RunChangeListener = (runId: string, state: RunState) => void;

/** The listeners told after every append this engine makes, and waiting on a condition of a run's state. */
export class RunChanges {
  private readonly listeners = new Set<RunChangeListener>();

  /** Calls `listener` after every append; returns what unsubscribes it. */
  onChange(listener: RunChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener of the run's new state. */
  emit(runId: string, state: RunState): void {
    for (const listener of this.listeners) listener(runId, state);
  }

  /** Resolves with the run's state once `predicate` holds (checked on `current()` and after each append). */
  waitFor(runId: string, predicate: (state: RunState) => boolean, timeoutMs: number, current: () => Promise<RunState>): Promise<RunState> {
    return new Promise<RunState>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`run ${runId}: condition not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const stop = this.onChange((id, state) => {
        if (id === runId && predicate(state)) {
          clearTimeout(timer);
          stop();
          resolve(state);
        }
      });
      current().then(
        (state) => {
          if (predicate(state)) {
            clearTimeout(timer);
            stop();
            resolve(state);
          }
        },
        (error: unknown) => {
          clearTimeout(timer);
          stop();
          reject(error);
        },
      );
    });
  }
}
