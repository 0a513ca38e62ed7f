import type { EventStore } from '../domain/ports/event-store.js';
import { NOTIFICATION_EVENT_TYPES, type NotificationEvent, notifyStreamId } from '../domain/notifications/events.js';
import { foldRecord, type NotificationRecord } from '../domain/notifications/record.js';

const TYPES = new Set<string>(NOTIFICATION_EVENT_TYPES);

/** Reads an approval's delivery record (`notify-<approvalId>`) and folds it; the store has parsed every event. */
export async function loadRecord(store: EventStore, approvalId: string): Promise<NotificationRecord> {
  const events = await store.readStream(notifyStreamId(approvalId));
  return foldRecord(events.map((e) => asNotificationEvent(e)));
}

/** A stored event of a `notify-` stream as the fold takes it; another type there is an error naming where. */
export function asNotificationEvent(e: { type: string; data: unknown; streamId: string; revision: number }): NotificationEvent {
  if (!TYPES.has(e.type)) throw new Error(`${e.streamId}@${e.revision}: ${e.type} is not a notification event`);
  return { type: e.type, data: e.data } as NotificationEvent;
}

/** The expected revision an append to a record folded up to `revision` must give. */
export function expectedOf(record: NotificationRecord): number | 'no_stream' {
  return record.revision < 0 ? 'no_stream' : record.revision;
}
