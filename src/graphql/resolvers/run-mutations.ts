import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { z } from 'zod';
import { OPERATION_ROLES } from '../auth/operations.js';
import { domainPrincipal } from '../auth/policy.js';
import type { GraphQLContext } from '../context.js';
import { parseArgs, RunIdArg } from '../parse.js';
import { runAfterWrite } from '../readers/consistency.js';
import { StartRunInput } from '../types/inputs.js';
import { Run } from '../types/run.js';
import { principalOf } from './principal.js';

const StepArgs = z.object({
  id: z.string().min(1).max(100),
  tool: z.string().min(1).max(200),
  input: z.record(z.string(), z.unknown()),
  domain: z.string().min(1).max(100),
  dependsOn: z.array(z.string().min(1).max(100)).max(1_000).optional(),
  description: z.string().max(2_000).optional(),
});

const StartArgs = z.object({
  goal: z.string().min(1).max(10_000),
  profile: z.string().min(1).max(100),
  steps: z.array(StepArgs).min(1).max(1_000).optional(),
  playbook: z.object({ name: z.string().min(1).max(200), params: z.record(z.string(), z.string().max(10_000)).optional() }).optional(),
  errorStrategy: z.enum(['FAIL_FAST', 'RETRY', 'CONTINUE']).optional(),
  budget: z.record(z.string(), z.unknown()).optional(),
  maxParallel: z.number().int().positive().max(1_000).optional(),
  deadline: z.date().optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

const RunArgs = z.object({ runId: RunIdArg, reason: z.string().max(5_000).optional() });

/** Starting, cancelling and resuming runs. Each returns the run's read model after its own write. */
@Resolver()
export class RunMutations {
  @Authorized(OPERATION_ROLES.startRun)
  @Mutation(() => Run, { description: 'Starts a run from explicit steps or a playbook. A retried request with the same idempotencyKey returns the same run.' })
  async startRun(@Arg('input', () => StartRunInput) input: StartRunInput, @Ctx() ctx: GraphQLContext): Promise<Run> {
    const p = principalOf(ctx);
    const a = parseArgs(StartArgs, input, 'startRun');
    const state = await ctx.services.orchestrator.startRun(
      { ...a, deadline: a.deadline?.toISOString(), playbook: a.playbook ? { name: a.playbook.name, params: a.playbook.params ?? {} } : undefined },
      domainPrincipal(p),
    );
    return (await runAfterWrite(ctx, state.runId)) as Run;
  }

  @Authorized(OPERATION_ROLES.cancelRun)
  @Mutation(() => Run, { description: 'Cancels a run: its requester, a tech lead, a devops engineer or an admin.' })
  async cancelRun(@Arg('runId', () => ID) runId: string, @Ctx() ctx: GraphQLContext, @Arg('reason', () => String, { nullable: true }) reason?: string): Promise<Run> {
    const p = principalOf(ctx);
    const a = parseArgs(RunArgs, { runId, reason }, 'cancelRun');
    await ctx.services.orchestrator.cancelRun(a.runId, { ...domainPrincipal(p), isAdmin: p.isAdmin }, a.reason);
    return (await runAfterWrite(ctx, a.runId)) as Run;
  }

  @Authorized(OPERATION_ROLES.resumeRun)
  @Mutation(() => Run, { description: 'Resumes a failed run from its failed steps: its requester, a tech lead, a devops engineer or an admin.' })
  async resumeRun(@Arg('runId', () => ID) runId: string, @Ctx() ctx: GraphQLContext, @Arg('reason', () => String, { nullable: true }) reason?: string): Promise<Run> {
    const p = principalOf(ctx);
    const a = parseArgs(RunArgs, { runId, reason }, 'resumeRun');
    await ctx.services.orchestrator.resumeRun(a.runId, { ...domainPrincipal(p), isAdmin: p.isAdmin }, a.reason);
    return (await runAfterWrite(ctx, a.runId)) as Run;
  }
}
