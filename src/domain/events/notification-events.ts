import { z } from 'zod';

// The delivery record of an approval (`notify-<approvalId>`): see src/domain/notifications/.

/** Why a message goes out: the gate was requested or escalated, a reminder fell due, or the requester hears the outcome. */
export const Trigger = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('requested') }),
  z.strictObject({ kind: z.literal('escalated'), toRoles: z.array(z.string()).min(1) }),
  z.strictObject({ kind: z.literal('reminder'), share: z.number().gt(0).lt(1) }),
  z.strictObject({ kind: z.literal('outcome'), outcome: z.enum(['granted', 'denied', 'expired_approved', 'expired_denied']) }),
]);
export type Trigger = z.infer<typeof Trigger>;

/** One message to one address on one channel, decided by the addressing rules. */
export const PlannedDelivery = z.strictObject({
  /** Unique in the approval's record; also the idempotency key the receiver sees (with the approval id). */
  key: z.string().min(1).max(500),
  channel: z.string().min(1),
  channelType: z.enum(['webhook', 'slack', 'email']),
  /** The address: an email, a Slack channel (`default` = the webhook's own), or the webhook channel's name. */
  to: z.string().min(1).max(500),
  /** The principals this message is for. */
  principals: z.array(z.string()),
  rule: z.string(),
  trigger: Trigger,
  /** Not sent before this instant (reminders). */
  notBefore: z.string(),
});
export type PlannedDelivery = z.infer<typeof PlannedDelivery>;

/** The deliveries one approval event calls for; `source` is that event's id, so it is planned once. */
export const DeliveriesPlanned = z.strictObject({
  approvalId: z.string(),
  runId: z.string(),
  source: z.string(),
  deliveries: z.array(PlannedDelivery),
});

/** The claim of an attempt: whoever appended it (at the expected revision) sends; others wait for its lease. */
export const DeliveryAttempted = z.strictObject({ key: z.string(), channel: z.string(), attempt: z.number().int().positive(), at: z.string(), leaseUntil: z.string() });
/** The receiver accepted the message. */
export const Delivered = z.strictObject({ key: z.string(), channel: z.string(), attempt: z.number().int().positive(), at: z.string() });
/** An attempt failed; retried at `retryAt`. `error` is scrubbed of secrets and URLs. */
export const DeliveryAttemptFailed = z.strictObject({ key: z.string(), channel: z.string(), attempt: z.number().int().positive(), at: z.string(), error: z.string().max(500), retryAt: z.string() });
/** The last attempt failed: no more tries. */
export const DeliveryFailed = z.strictObject({ key: z.string(), channel: z.string(), attempt: z.number().int().positive(), at: z.string(), error: z.string().max(500) });
/** Not sent, and never will be (a reminder for a gate already closed). */
export const DeliverySkipped = z.strictObject({ key: z.string(), channel: z.string(), at: z.string(), reason: z.string().max(200) });

