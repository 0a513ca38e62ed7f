import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { z } from 'zod';
import { RiskLevel as RiskLevelSchema } from '../../domain/events/common.js';
import { assertMayListAll } from '../auth/policy.js';
import type { GraphQLContext } from '../context.js';
import { AT_LEAST } from '../readers/at-least.js';
import { readAtLeast } from '../readers/consistency.js';
import { unauthorized } from '../errors.js';
import { ApprovalId, Cursor, First, parseArgs } from '../parse.js';
import { maySeeApproval, readApproval, readPendingApprovals } from '../readers/approvals.js';
import { Approval, ApprovalConnection, ApprovalScope, RiskLevel } from '../types/approval.js';
import { principalOf } from './principal.js';
import { pageCost } from './run-queries.js';

const ListArgs = z.object({
  scope: z.enum(['ACTIONABLE', 'MINE', 'ALL']).default('ACTIONABLE'),
  role: z.string().max(100).optional(),
  risk: z.array(RiskLevelSchema).max(4).optional(),
  requester: z.string().max(200).optional(),
  first: First,
  after: Cursor.optional(),
});

/** Approval requests. */
@Resolver()
export class ApprovalQueries {
  @Authorized()
  @Query(() => ApprovalConnection, { description: 'Open approval requests, urgent first, then oldest. By default: what the caller may decide now.', complexity: pageCost })
  async pendingApprovals(
    @Ctx() ctx: GraphQLContext,
    @Arg('scope', () => ApprovalScope, { nullable: true }) scope?: ApprovalScope,
    @Arg('role', () => String, { nullable: true }) role?: string,
    @Arg('risk', () => [RiskLevel], { nullable: true }) risk?: RiskLevel[],
    @Arg('requester', () => String, { nullable: true }) requester?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('atLeast', () => String, { nullable: true, description: AT_LEAST }) atLeast?: string,
  ): Promise<ApprovalConnection> {
    const p = principalOf(ctx);
    const a = parseArgs(ListArgs, { scope, role, risk, requester, first, after }, 'pendingApprovals');
    if (a.scope === 'ALL') assertMayListAll(p);
    await readAtLeast(ctx.services, atLeast);
    return readPendingApprovals(ctx.services, p, a) as ApprovalConnection;
  }

  @Authorized()
  @Query(() => Approval, { description: 'One approval, open or closed; NOT_FOUND if there is none.' })
  async approval(@Arg('approvalId', () => ID) approvalId: string, @Ctx() ctx: GraphQLContext, @Arg('atLeast', () => String, { nullable: true, description: AT_LEAST }) atLeast?: string): Promise<Approval> {
    const p = principalOf(ctx);
    const id = parseArgs(ApprovalId, approvalId, 'approvalId');
    await readAtLeast(ctx.services, atLeast);
    const approval = await readApproval(ctx.services, id);
    if (!maySeeApproval(p, approval)) throw unauthorized('this approval is not visible to this principal');
    return approval;
  }
}
