import type { Position } from '../../domain/ports/event-store.js';
import type { Handle } from './handles.js';
import type { RebuildWorker, ReplayFailure } from './replay.js';

/** How a rebuild thread ended, as the runner acts on it. */
export type AwayResult =
  | { readonly kind: 'done'; readonly events: number }
  | { readonly kind: 'failed'; readonly events: number; readonly failure: ReplayFailure }
  /** The thread itself failed (the log or the store), or was stopped: its projections resume in the runner. */
  | { readonly kind: 'broken'; readonly error: unknown };

/** A rebuild thread under way: the handles it took and how it ends (never rejects). */
export interface AwayRebuild {
  readonly handles: readonly Handle[];
  readonly result: Promise<AwayResult>;
  stop(): Promise<void>;
}

/**
 * Starts a thread on the (just reset) handles among `rebuilt` that `worker` takes, if it is worth
 * one: only when the rebuild has others to replay in the runner meanwhile. They are marked `away`
 * (the runner's loop leaves them alone) until the runner has them rejoin.
 */
export function startAway(worker: RebuildWorker | undefined, rebuilt: readonly Handle[], job: { head: Position | undefined; maxBatch: number; cacheSize: number }): AwayRebuild | undefined {
  if (!worker) return undefined;
  const handles = rebuilt.filter((h) => worker.projections.includes(h.projection.name));
  if (handles.length === 0 || handles.length === rebuilt.length) return undefined;
  for (const h of handles) h.away = true;
  const thread = worker.start({ names: handles.map((h) => h.projection.name), ...job });
  const result = thread.outcome.then(
    (outcome): AwayResult => (outcome.ok ? { kind: 'done', events: outcome.events } : { kind: 'failed', events: outcome.events, failure: outcome.failure }),
    (error: unknown): AwayResult => ({ kind: 'broken', error }),
  );
  return { handles, result, stop: () => thread.stop() };
}
