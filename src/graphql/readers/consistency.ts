import { runStreamId } from '../../domain/run/state.js';
import type { RunView } from '../../projections/read-models/runs.js';
import type { GatehouseServices } from '../context.js';
import { gqlError } from '../errors.js';
import { readRun } from './runs.js';

/**
 * Read-your-writes: waits until every read model has applied the newest event of the run (the
 * write this request just made, or a later one), then reads the run from the runs read model.
 */
export async function runAfterWrite(services: GatehouseServices, runId: string): Promise<RunView> {
  const [last] = await services.store.readStream(runStreamId(runId), { direction: 'backwards', maxCount: 1 });
  if (last) {
    try {
      await services.projections.waitFor(last.position, services.readYourWritesTimeoutMs ?? 5_000);
    } catch {
      throw gqlError('READ_MODEL_LAGGING', 'the change was recorded, but the read models have not caught up yet: query again shortly');
    }
  }
  return readRun(services, runId);
}
