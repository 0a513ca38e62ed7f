import { Authorized, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { loadRecord } from '../../orchestrator/notification-record.js';
import { PAYLOAD_ROLES } from '../auth/roles.js';
import type { GraphQLContext } from '../context.js';
import { Approval } from '../types/approval.js';
import { ApprovalNotification, NotificationStatus } from '../types/notification.js';

/** The delivery record of an approval, as a field of the approval. */
@Resolver(() => Approval)
export class ApprovalNotificationFields {
  // Addresses are people's: not for viewers, like the input.
  @Authorized(PAYLOAD_ROLES)
  @FieldResolver(() => [ApprovalNotification], { description: 'Every notification about this approval: to whom, on which channel, and how it went (read from its record in the log).' })
  async notifications(@Root() approval: Approval, @Ctx() ctx: GraphQLContext): Promise<ApprovalNotification[]> {
    const record = await loadRecord(ctx.services.store, approval.approvalId);
    return record.deliveries.map((d) => ({
      channel: d.channel, to: d.to, trigger: d.trigger.kind, status: NotificationStatus[d.status], attempts: d.attempts, lastError: d.lastError, at: d.at,
    }));
  }
}
