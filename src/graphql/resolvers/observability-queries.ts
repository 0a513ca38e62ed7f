import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { z } from 'zod';
import { NotFoundError } from '../../domain/errors.js';
import { budgetQueries, budgetsProjection, goldenSignalQueries, goldenSignalsProjection } from '../../projections/index.js';
import type { GraphQLContext } from '../context.js';
import { AT_LEAST } from '../readers/at-least.js';
import { readAtLeast } from '../readers/consistency.js';
import { parseArgs, RunIdArg } from '../parse.js';
import { Budget, BudgetScopeInput, GoldenSignals, SignalWindow } from '../types/observability.js';

const BudgetArgs = z
  .object({ runId: RunIdArg.optional(), profile: z.string().min(1).max(100).optional() })
  .refine((a) => (a.runId === undefined) !== (a.profile === undefined), 'give exactly one of runId and profile');

/** Budgets and golden signals. */
@Resolver()
export class ObservabilityQueries {
  @Authorized()
  @Query(() => Budget, { description: 'Budget utilization of a run or of a profile.' })
  async budget(@Arg('scope', () => BudgetScopeInput) scope: BudgetScopeInput, @Ctx() ctx: GraphQLContext, @Arg('atLeast', () => String, { nullable: true, description: AT_LEAST }) atLeast?: string): Promise<Budget> {
    const a = parseArgs(BudgetArgs, { ...scope }, 'budget scope');
    await readAtLeast(ctx.services, atLeast);
    const state = ctx.services.projections.read(budgetsProjection);
    if (a.runId !== undefined) {
      const run = budgetQueries.run(state, a.runId);
      if (!run) throw new NotFoundError(`no budget for run ${a.runId}`);
      return {
        runId: run.runId,
        profile: run.profile,
        lines: run.lines.map((l) => ({ ...l, warnings: l.warned ? 1 : 0, exceeded: l.exceeded ? 1 : 0 })),
      };
    }
    const profile = budgetQueries.profile(state, a.profile as string);
    if (!profile) throw new NotFoundError(`no budget for profile ${a.profile}`);
    return {
      profile: profile.profile,
      runs: profile.runs,
      liveRuns: profile.liveRuns,
      lines: profile.lines.map((l) => ({
        scope: l.scope,
        kind: l.scope === 'total' ? 'total' : (l.scope.split(':')[0] as string),
        key: l.scope === 'total' ? undefined : l.scope.slice(l.scope.indexOf(':') + 1),
        used: l.calls,
        limit: l.live?.limit,
        remaining: l.live?.remaining,
        percent: l.live?.percent,
        warnings: l.warnings,
        exceeded: l.exceeded,
        blocked: l.blocked,
      })),
    };
  }

  @Authorized()
  @Query(() => GoldenSignals, { description: 'Success and error rates, latency and approval wait percentiles, throughput.' })
  async goldenSignals(
    @Ctx() ctx: GraphQLContext,
    @Arg('scope', () => String, { defaultValue: 'overall', description: '`overall`, `tool:<name>`, `worker:<name>` or `profile:<name>`.' }) scope: string,
    @Arg('window', () => SignalWindow, { defaultValue: SignalWindow.ALL }) window: SignalWindow,
    @Arg('atLeast', () => String, { nullable: true, description: AT_LEAST }) atLeast?: string,
  ): Promise<GoldenSignals> {
    const a = parseArgs(z.object({ scope: z.string().min(1).max(300), window: z.enum(['all', '5m', '1h']) }), { scope, window }, 'goldenSignals');
    await readAtLeast(ctx.services, atLeast);
    const state = ctx.services.projections.read(goldenSignalsProjection);
    const report = goldenSignalQueries.signals(state, a.scope, { window: a.window === 'all' ? undefined : a.window, now: ctx.services.now() });
    if (!report) throw new NotFoundError(`no signals for ${a.scope}`);
    return { ...report, scope: report.group, window: report.window as SignalWindow };
  }
}
