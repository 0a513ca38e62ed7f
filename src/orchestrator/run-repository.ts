import type { RunEvent } from '../domain/events/index.js';
import type { EventStore, EventToAppend } from '../domain/ports/event-store.js';
import { foldRun } from '../domain/run/evolve.js';
import { initialRunState, type RunState, runStreamId } from '../domain/run/state.js';

/** A run's state and the stream revision it was folded up to (-1: no stream yet). */
export interface LoadedRun {
  readonly state: RunState;
  readonly revision: number;
  /** The hash of the stream's last event (the chain continues from it). */
  readonly lastHash?: string;
}

/** Reads a run's stream and folds it: the only way a run's state comes to be. */
export async function loadRun(store: EventStore, runId: string): Promise<LoadedRun> {
  const recorded = await store.readStream(runStreamId(runId));
  const state = foldRun(
    recorded.map((e) => ({ type: e.type, data: e.data }) as RunEvent),
    initialRunState(),
  );
  return { state, revision: recorded.length - 1, lastHash: recorded[recorded.length - 1]?.metadata.hash };
}

/**
 * Brings a held fold up to the log: reads only the events after `held.revision` and folds them on
 * `held.state` (a run's stream only grows, so the fold of the rest equals the fold of the whole).
 */
export async function catchUpRun(store: EventStore, runId: string, held: LoadedRun): Promise<LoadedRun> {
  const recorded = await store.readStream(runStreamId(runId), { fromRevision: held.revision + 1 });
  if (recorded.length === 0) return held;
  const state = foldRun(recorded.map((e) => ({ type: e.type, data: e.data }) as RunEvent), held.state);
  return { state, revision: (recorded[recorded.length - 1] as (typeof recorded)[number]).revision, lastHash: recorded[recorded.length - 1]?.metadata.hash };
}

/** Events to append, with the metadata every run event carries; `actors[i]` caused `events[i]`. */
export function toAppend(
  runId: string,
  events: readonly RunEvent[],
  actors: readonly string[],
  extra: (event: RunEvent, index: number) => Record<string, string> | undefined = () => undefined,
  instance?: string,
): EventToAppend[] {
  return events.map((e, i) => ({
    type: e.type,
    data: e.data,
    metadata: { correlationId: runId, actor: actors[i] as string, ...(instance !== undefined ? { instance } : {}), ...extra(e, i) },
  }));
}
