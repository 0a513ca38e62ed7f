import { ValidationError } from '../../domain/errors.js';
import type { Position } from '../../domain/ports/event-store.js';
import { runStreamId } from '../../domain/run/state.js';
import { runsProjection, type RunView } from '../../projections/read-models/runs.js';
import type { GatehouseServices, GraphQLContext } from '../context.js';
import { gqlError } from '../errors.js';
import { readRunOrFold } from './runs.js';

/** The read models a mutation's answer reads (its `run`): what its read-your-writes waits for. */
const ANSWER_READS = [runsProjection.name];

/** How long a query waits for `atLeast`, and a mutation for its own write, by default. */
export const DEFAULT_CONSISTENCY_WAIT_MS = 5_000;

/**
 * The consistency token of one request: the furthest log position its mutations wrote, sent back
 * as `extensions.consistencyToken` so a query on any instance can wait for it (`atLeast`).
 */
export class WrittenPosition {
  private position: Position | undefined;

  constructor(private readonly compare: (a: Position, b: Position) => number) {}

  /** Notes a position this request's writes reached (the furthest one wins). */
  note(position: Position): void {
    if (this.position === undefined || this.compare(position, this.position) > 0) this.position = position;
  }

  /** The token to return, if the request wrote anything. */
  get token(): Position | undefined {
    return this.position;
  }
}

/**
 * Read-your-writes: waits until the runs read model (the one the answer reads) has applied the
 * newest event of the run (the write this request just made, or a later one), notes that position
 * as the request's consistency token, then reads the run from it. Not every read model: they all
 * apply an event in the same turn, so the wait is the same, but one stopped by an error in its own
 * code must not turn a recorded write whose answer can show it into an error.
 */
export async function runAfterWrite(ctx: GraphQLContext, runId: string): Promise<RunView> {
  const { services } = ctx;
  const [last] = await services.store.readStream(runStreamId(runId), { direction: 'backwards', maxCount: 1 });
  if (last) {
    // Noted before waiting: a write whose read models lag is still a write another instance can wait for.
    ctx.written?.note(last.position);
    try {
      await services.projections.waitFor(last.position, services.readYourWritesTimeoutMs ?? DEFAULT_CONSISTENCY_WAIT_MS, ANSWER_READS);
    } catch {
      throw gqlError('READ_MODEL_LAGGING', 'the change was recorded, but the read models have not caught up yet: query again shortly');
    }
  }
  return readRunOrFold(services, runId);
}

/**
 * A query's `atLeast`: waits until this instance's read models have applied the token (a
 * mutation's consistency token, from any instance on the same store). No token: answers at once.
 */
export async function readAtLeast(services: GatehouseServices, atLeast: string | null | undefined): Promise<void> {
  if (atLeast === undefined || atLeast === null) return;
  try {
    services.store.comparePositions(atLeast, atLeast); // the store's own check of its cursor format
  } catch {
    throw new ValidationError(`atLeast: "${atLeast.slice(0, 100)}" is not a consistency token of this event store`);
  }
  const timeoutMs = services.readYourWritesTimeoutMs ?? DEFAULT_CONSISTENCY_WAIT_MS;
  try {
    await services.projections.waitFor(atLeast, timeoutMs);
  } catch {
    throw gqlError('READ_MODEL_LAGGING', `the read models of this instance have not reached consistency token ${atLeast} within ${timeoutMs} ms: query again shortly`);
  }
}
