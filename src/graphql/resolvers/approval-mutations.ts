import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { z } from 'zod';
import type { RunState } from '../../domain/run/state.js';
import { OPERATION_ROLES } from '../auth/operations.js';
import { domainPrincipal } from '../auth/policy.js';
import type { GraphQLContext } from '../context.js';
import { ApprovalId, parseArgs } from '../parse.js';
import { fromGate } from '../readers/approvals.js';
import { runAfterWrite } from '../readers/consistency.js';
import { ApprovalPayload } from '../types/approval.js';
import { ApprovalReasonInput, ApproveInput, DenyInput, EscalateInput } from '../types/inputs.js';
import type { Run } from '../types/run.js';
import { principalOf } from './principal.js';

const Approve = z.object({ approvalId: ApprovalId, justification: z.string().min(1).max(5_000).optional(), editedInput: z.record(z.string(), z.unknown()).optional() });
const Deny = z.object({ approvalId: ApprovalId, justification: z.string().min(1).max(5_000).optional() });
const Reason = z.object({ approvalId: ApprovalId, reason: z.string().min(1).max(5_000).optional() });
const Escalation = Reason.extend({ toRoles: z.array(z.string().min(1).max(100)).min(1).max(10).optional() });

/** Approval decisions. Each returns the gate as the log has it and the run's read model after the write. */
@Resolver()
export class ApprovalMutations {
  @Authorized(OPERATION_ROLES.approve)
  @Mutation(() => ApprovalPayload, { description: 'Grants an approval (never one\'s own request), optionally with a justification and edited input.' })
  async approve(@Arg('input', () => ApproveInput) input: ApproveInput, @Ctx() ctx: GraphQLContext): Promise<ApprovalPayload> {
    const a = parseArgs(Approve, input, 'approve');
    const state = await ctx.services.orchestrator.grantApproval(a, domainPrincipal(principalOf(ctx)));
    return payload(ctx, state, a.approvalId);
  }

  @Authorized(OPERATION_ROLES.deny)
  @Mutation(() => ApprovalPayload, { description: 'Denies an approval: the gate closes and the step fails.' })
  async deny(@Arg('input', () => DenyInput) input: DenyInput, @Ctx() ctx: GraphQLContext): Promise<ApprovalPayload> {
    const a = parseArgs(Deny, input, 'deny');
    const state = await ctx.services.orchestrator.denyApproval(a, domainPrincipal(principalOf(ctx)));
    return payload(ctx, state, a.approvalId);
  }

  @Authorized(OPERATION_ROLES.escalateApproval)
  @Mutation(() => ApprovalPayload, { description: 'Escalates an approval to the next roles (e.g. a tech lead to devops engineers).' })
  async escalateApproval(@Arg('input', () => EscalateInput) input: EscalateInput, @Ctx() ctx: GraphQLContext): Promise<ApprovalPayload> {
    const a = parseArgs(Escalation, input, 'escalateApproval');
    const state = await ctx.services.orchestrator.escalateApproval(a, domainPrincipal(principalOf(ctx)));
    return payload(ctx, state, a.approvalId);
  }

  @Authorized(OPERATION_ROLES.cancelApproval)
  @Mutation(() => ApprovalPayload, { description: 'Withdraws an approval request: its requester or an admin.' })
  async cancelApproval(@Arg('input', () => ApprovalReasonInput) input: ApprovalReasonInput, @Ctx() ctx: GraphQLContext): Promise<ApprovalPayload> {
    const a = parseArgs(Reason, input, 'cancelApproval');
    const p = principalOf(ctx);
    const state = await ctx.services.orchestrator.cancelApproval(a, { ...domainPrincipal(p), isAdmin: p.isAdmin });
    return payload(ctx, state, a.approvalId);
  }
}

async function payload(ctx: GraphQLContext, state: RunState, approvalId: string): Promise<ApprovalPayload> {
  const run = (await runAfterWrite(ctx, state.runId)) as Run;
  return { approval: fromGate(state, approvalId), run };
}
