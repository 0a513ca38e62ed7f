import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { z } from 'zod';
import type { GraphQLContext } from '../context.js';
import { Cursor, First, parseArgs, RunIdArg } from '../parse.js';
import { AT_LEAST } from '../readers/at-least.js';
import { readAtLeast } from '../readers/consistency.js';
import { readRunEvents } from '../readers/run-events.js';
import { readRunOrFold, readRuns, readTrace, type RunsPage } from '../readers/runs.js';
import { RunsFilter } from '../types/inputs.js';
import { Run, RunConnection, TraceEntry } from '../types/run.js';
import { RunEventConnection } from '../types/run-event.js';

const pageCost = ({ args, childComplexity }: { args: Record<string, unknown>; childComplexity: number }) =>
  1 + (typeof args.first === 'number' ? args.first : 20) * childComplexity;

const RunsArgs = z.object({
  filter: z
    .object({
      status: z.string().optional(),
      profile: z.string().max(100).optional(),
      requester: z.string().max(200).optional(),
      startedAfter: z.date().optional(),
      startedBefore: z.date().optional(),
    })
    .default({}),
  first: First,
  after: Cursor.optional(),
});

/** Runs and their audit replay. */
@Resolver()
export class RunQueries {
  @Authorized()
  @Query(() => Run, { description: 'A run from the runs read model (one retention dropped from it: folded from its stream, slower); NOT_FOUND if there is none.' })
  async run(@Arg('runId', () => ID) runId: string, @Ctx() ctx: GraphQLContext, @Arg('atLeast', () => String, { nullable: true, description: AT_LEAST }) atLeast?: string): Promise<Run> {
    const id = parseArgs(RunIdArg, runId, 'runId');
    await readAtLeast(ctx.services, atLeast);
    return (await readRunOrFold(ctx.services, id)) as Run;
  }

  @Authorized()
  @Query(() => RunConnection, { description: 'Runs, newest first.', complexity: pageCost })
  async runs(
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => RunsFilter, { nullable: true }) filter?: RunsFilter,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('atLeast', () => String, { nullable: true, description: AT_LEAST }) atLeast?: string,
  ): Promise<RunConnection> {
    const a = parseArgs(RunsArgs, { filter, first, after }, 'runs');
    await readAtLeast(ctx.services, atLeast);
    return readRuns(ctx.services, {
      ...a.filter,
      startedAfter: a.filter.startedAfter?.toISOString(),
      startedBefore: a.filter.startedBefore?.toISOString(),
      first: a.first,
      after: a.after,
    }) as RunConnection;
  }

  @Authorized()
  @Query(() => RunEventConnection, { description: 'The audit replay: a run\'s events in order, from the log, with stage, position and hash.', complexity: pageCost })
  async runEvents(
    @Arg('runId', () => ID) runId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
  ): Promise<RunEventConnection> {
    const a = parseArgs(z.object({ runId: RunIdArg, after: Cursor.optional(), first: First }), { runId, after, first }, 'runEvents');
    return (await readRunEvents(ctx.services, a.runId, a.after, a.first)) as RunEventConnection;
  }
}

/** Fields of a run that are not in its read-model document. */
@Resolver(() => Run)
export class RunFields {
  @FieldResolver(() => [TraceEntry], {
    complexity: ({ childComplexity }) => 1 + 100 * childComplexity,
    description: 'Every event of the run, without payloads, read from its stream (costly: counted as 100 entries).',
  })
  async trace(@Root() run: Run, @Ctx() ctx: GraphQLContext): Promise<TraceEntry[]> {
    return (await readTrace(ctx.services, run.runId)) as TraceEntry[];
  }
}

/** `runs(...).totalCount`: one indexed count, made only when the field is selected. */
@Resolver(() => RunConnection)
export class RunConnectionFields {
  @FieldResolver(() => Int, { nullable: true, description: 'All runs matching the filter (counted only when asked for: a count over an index).' })
  totalCount(@Root() page: RunsPage): number {
    return page.count();
  }
}

export { pageCost };
