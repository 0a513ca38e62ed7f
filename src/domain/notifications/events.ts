import type { z } from 'zod';
import { Delivered, DeliveriesPlanned, DeliveryAttemptFailed, DeliveryAttempted, DeliveryFailed, DeliverySkipped } from '../events/notification-events.js';

export { PlannedDelivery, Trigger } from '../events/notification-events.js';

/** The stream of an approval's delivery record: `notify-<approvalId>`. */
export function notifyStreamId(approvalId: string): string {
  return `notify-${approvalId}`;
}

/** The events of a delivery record, by type. */
export const NotificationEventSchemas = {
  DeliveriesPlanned, DeliveryAttempted, Delivered, DeliveryAttemptFailed, DeliveryFailed, DeliverySkipped,
} as const;

/** One event of a `notify-` stream. */
export type NotificationEvent = {
  [K in keyof typeof NotificationEventSchemas]: { type: K; data: z.infer<(typeof NotificationEventSchemas)[K]> };
}[keyof typeof NotificationEventSchemas];

/** The types of {@link NotificationEvent}. */
export const NOTIFICATION_EVENT_TYPES = Object.keys(NotificationEventSchemas) as Array<NotificationEvent['type']>;

