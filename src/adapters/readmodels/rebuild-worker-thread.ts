/**
 * The rebuild thread (see `rebuild-worker.ts`): opens the log and the read models on its own
 * connections, replays the projections it was given with `replayFromStart`, posts the outcome.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ReadModelState } from '../../projections/documents.js';
import type { Projection } from '../../projections/projection.js';
import { replayFromStart } from '../../projections/runner/replay.js';
import { createSqliteEventStore } from '../eventstore/sqlite/sqlite-event-store.js';
import type { RebuildThreadData, RebuildThreadMessage } from './rebuild-worker.js';
import { createSqliteReadModelStore } from './sqlite-read-model-store.js';

const data = workerData as RebuildThreadData;
const port = parentPort;
if (!port) throw new Error('rebuild-worker-thread runs as a worker thread');

async function main(): Promise<RebuildThreadMessage> {
  const { allProjections } = (await import(data.projectionsModule)) as { allProjections: ReadonlyArray<Projection<ReadModelState>> };
  const projections = data.names.map((name) => {
    const p = allProjections.find((q) => q.name === name);
    if (!p) throw new Error(`the rebuild thread has no projection named ${name}`);
    return p;
  });
  const store = createSqliteEventStore({ path: data.eventStorePath, ...(data.durability ? { durability: data.durability } : {}) });
  const readModels = createSqliteReadModelStore({ path: data.readModelsPath, ...(data.durability ? { durability: data.durability } : {}) });
  try {
    const outcome = await replayFromStart({ store, readModels, projections, head: data.head, maxBatch: data.maxBatch, cacheSize: data.cacheSize });
    return { outcome: outcome.ok ? outcome : { ...outcome, failure: { ...outcome.failure, cause: cloneable(outcome.failure.cause) } } };
  } finally {
    readModels.close();
    await store.close();
  }
}

/** An error as structured clone carries it (its class's own fields and methods stay behind): name, message, stack. */
function cloneable(cause: unknown): unknown {
  if (!(cause instanceof Error)) return cause;
  const copy = new Error(cause.message);
  copy.name = cause.name;
  if (cause.stack !== undefined) copy.stack = cause.stack;
  return copy;
}

main().then(
  (message) => port.postMessage(message),
  (error: unknown) => port.postMessage({ error: cloneable(error) }),
);
