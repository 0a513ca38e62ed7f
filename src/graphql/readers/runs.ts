import { NotFoundError } from '../../domain/errors.js';
import { runStreamId } from '../../domain/run/state.js';
import { runQueries, runsProjection } from '../../projections/index.js';
import { asProjected } from '../../projections/projection.js';
import { type RunView, type TraceEntry, traceOf } from '../../projections/read-models/runs.js';
import type { GatehouseServices } from '../context.js';
import type { Page } from '../types/connection.js';
import { decodeKey, encodeKey } from './cursors.js';

export interface RunsQuery {
  status?: string;
  profile?: string;
  requester?: string;
  startedAfter?: string;
  startedBefore?: string;
  first: number;
  after?: string;
}

/** A run from the runs read model, or NOT_FOUND. */
export function readRun(services: GatehouseServices, runId: string): RunView {
  const run = runQueries.run(services.projections.read(runsProjection), runId);
  if (!run) throw new NotFoundError(`no run ${runId}`, { runId });
  return run;
}

/** A run's trace: its stream's events without payloads, from the log. */
export async function readTrace(services: GatehouseServices, runId: string): Promise<TraceEntry[]> {
  return traceOf((await services.store.readStream(runStreamId(runId))).map(asProjected));
}

/** Runs newest first, filtered, one keyset page at a time (the cursor survives inserts). */
export function readRuns(services: GatehouseServices, q: RunsQuery): Page<RunView> {
  const state = services.projections.read(runsProjection);
  const matching = [...state.runs.values()].filter(
    (r) =>
      (!q.status || r.status === q.status) &&
      (!q.profile || r.profile === q.profile) &&
      (!q.requester || r.requester?.id === q.requester) &&
      (!q.startedAfter || r.startedAt >= q.startedAfter) &&
      (!q.startedBefore || r.startedAt < q.startedBefore),
  );
  matching.sort(newestFirst);
  let start = 0;
  if (q.after !== undefined) {
    const key = decodeKey(q.after);
    start = matching.findIndex((r) => compareKey([r.startedAt, r.runId], key) > 0);
    if (start < 0) start = matching.length;
  }
  const slice = matching.slice(start, start + q.first);
  const edges = slice.map((node) => ({ cursor: encodeKey([node.startedAt, node.runId]), node }));
  return { edges, pageInfo: { endCursor: edges[edges.length - 1]?.cursor, hasNextPage: start + q.first < matching.length }, totalCount: matching.length };
}

/** Descending by (startedAt, runId): positive when `a` comes after `b` in the listing. */
function compareKey(a: readonly [string, string], b: readonly [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? 1 : -1;
  return a[1] === b[1] ? 0 : a[1] < b[1] ? 1 : -1;
}

function newestFirst(a: RunView, b: RunView): number {
  return compareKey([a.startedAt, a.runId], [b.startedAt, b.runId]);
}
