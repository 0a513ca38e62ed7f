import { NotFoundError } from '../../domain/errors.js';
import { runStreamId } from '../../domain/run/state.js';
import { runQueries, runsProjection } from '../../projections/index.js';
import { asProjected, ProjectionFold } from '../../projections/projection.js';
import { type RunsFilter, type RunView, type TraceEntry, traceOf } from '../../projections/read-models/runs.js';
import type { GatehouseServices } from '../context.js';
import type { Page } from '../types/connection.js';
import { decodeKey, encodeKey } from './cursors.js';

/** The read model's filter, with the page cursor as the API sends it (an opaque string). */
export type RunsQuery = Omit<RunsFilter, 'after'> & { after?: string };

/** A page of runs whose `totalCount` is counted only when asked for (`countRuns`). */
export type RunsPage = Page<RunView> & { count: () => number };

/** A run from the runs read model, or NOT_FOUND. */
export function readRun(services: GatehouseServices, runId: string): RunView {
  const run = runQueries.run(services.projections.read(runsProjection), runId);
  if (!run) throw new NotFoundError(`no run ${runId}`, { runId });
  return run;
}

/**
 * A run from the runs read model; one retention dropped from it (the read model applied its
 * stream, but has no document) is folded from its stream: the runs projection's own evolve on a
 * fresh state (one fold), slower. NOT_FOUND if the log has none, or the read model is not there yet.
 */
export async function readRunOrFold(services: GatehouseServices, runId: string): Promise<RunView> {
  const run = runQueries.run(services.projections.read(runsProjection), runId);
  if (run) return run;
  const events = await services.store.readStream(runStreamId(runId));
  const last = events[events.length - 1];
  const applied = services.projections.position(runsProjection.name);
  // A run the read model has not reached yet (this instance lags) is answered as the read model
  // stands, as before: only a run it has applied and dropped is folded from the log.
  if (!last || applied === undefined || services.store.comparePositions(applied, last.position) < 0) throw new NotFoundError(`no run ${runId}`, { runId });
  const fold = new ProjectionFold(runsProjection, (a, b) => services.store.comparePositions(a, b));
  for (const e of events) fold.apply(asProjected(e));
  const folded = runQueries.run(fold.state, runId);
  if (!folded) throw new NotFoundError(`no run ${runId}`, { runId });
  return folded;
}

/** A run's trace: its stream's events without payloads, from the log. */
export async function readTrace(services: GatehouseServices, runId: string): Promise<TraceEntry[]> {
  return traceOf((await services.store.readStream(runStreamId(runId))).map(asProjected));
}

/** Runs newest first, filtered, one keyset page at a time (the cursor survives inserts): indexed SQL. */
export function readRuns(services: GatehouseServices, q: RunsQuery): RunsPage {
  const state = services.projections.read(runsProjection);
  const filter = { status: q.status, profile: q.profile, requester: q.requester, startedAfter: q.startedAfter, startedBefore: q.startedBefore };
  const { items, hasNextPage } = runQueries.list(state, { ...filter, first: q.first, after: q.after === undefined ? undefined : decodeKey(q.after) });
  const edges = items.map((node) => ({ cursor: encodeKey([node.startedAt, node.runId]), node }));
  return { edges, pageInfo: { endCursor: edges[edges.length - 1]?.cursor, hasNextPage }, count: () => runQueries.count(state, filter) };
}
