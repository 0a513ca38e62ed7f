import { stageOf, type RunEventType } from '../../domain/events/index.js';
import type { RecordedEvent } from '../../domain/ports/event-store.js';
import { runStreamId } from '../../domain/run/state.js';
import type { GatehouseServices } from '../context.js';
import type { Page } from '../types/connection.js';
import type { RunEvent } from '../types/run-event.js';
import { decodeEventCursor, encodeEventCursor } from './cursors.js';
import { readRun } from './runs.js';

/** A recorded event as the API shows it: stage, cursor, position and audit hash. */
export function toRunEvent(runId: string, e: RecordedEvent): RunEvent {
  return {
    cursor: encodeEventCursor(runId, e.revision),
    runId,
    revision: e.revision,
    position: e.position,
    id: e.id,
    type: e.type,
    stage: stageOf(e.type as RunEventType) as RunEvent['stage'],
    actor: e.metadata.actor,
    causationId: e.metadata.causationId,
    instance: e.metadata.instance,
    hash: e.metadata.hash,
    stepId: (e.data as { stepId?: unknown } | null)?.stepId as string | undefined,
    recordedAt: e.recordedAt,
    data: e.data,
  };
}

/** The revision after which to continue, from an optional cursor of this run. */
export function afterRevision(runId: string, after: string | undefined): number {
  return after === undefined ? -1 : decodeEventCursor(after, runId);
}

/** The audit replay: a page of a run's stream, read from the log itself. */
export async function readRunEvents(services: GatehouseServices, runId: string, after: string | undefined, first: number): Promise<Page<RunEvent>> {
  const from = afterRevision(runId, after) + 1;
  const events = await services.store.readStream(runStreamId(runId), { fromRevision: from, maxCount: first + 1 });
  if (events.length === 0 && from === 0) readRun(services, runId); // NOT_FOUND for a run that does not exist
  const page = events.slice(0, first).map((e) => toRunEvent(runId, e));
  return {
    edges: page.map((node) => ({ cursor: node.cursor, node })),
    pageInfo: { endCursor: page[page.length - 1]?.cursor, hasNextPage: events.length > first },
  };
}
