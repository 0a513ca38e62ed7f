import type { NotificationEvent, PlannedDelivery, Trigger } from './events.js';

/** Where one delivery stands. */
export type DeliveryStatus = 'PLANNED' | 'SENDING' | 'RETRYING' | 'DELIVERED' | 'FAILED' | 'SKIPPED';

/** One delivery as its record tells it. */
export interface DeliveryState {
  readonly key: string;
  readonly channel: string;
  readonly channelType: PlannedDelivery['channelType'];
  readonly to: string;
  readonly principals: readonly string[];
  readonly trigger: Trigger;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastError?: string;
  /** When its status last changed. */
  readonly at: string;
  /** When it may be (re)tried: notBefore, retryAt, or a claim's lease end. */
  readonly dueAt: string;
}

/** The delivery record of one approval: the fold of its `notify-` stream. */
export interface NotificationRecord {
  readonly approvalId?: string;
  readonly runId?: string;
  /** Revision of the last event folded (-1: none). */
  readonly revision: number;
  /** Ids of the approval events already planned for. */
  readonly sources: readonly string[];
  readonly deliveries: readonly DeliveryState[];
}

/** An empty record. */
export const emptyRecord: NotificationRecord = { revision: -1, sources: [], deliveries: [] };

/** Folds one event into a record. */
export function evolveRecord(record: NotificationRecord, event: NotificationEvent): NotificationRecord {
  const revision = record.revision + 1;
  const update = (key: string, f: (d: DeliveryState) => DeliveryState): NotificationRecord => ({
    ...record, revision, deliveries: record.deliveries.map((d) => (d.key === key ? f(d) : d)),
  });
  switch (event.type) {
    case 'DeliveriesPlanned': {
      const known = new Set(record.deliveries.map((d) => d.key));
      const added = event.data.deliveries.filter((d) => !known.has(d.key)).map((d): DeliveryState => ({
        key: d.key, channel: d.channel, channelType: d.channelType, to: d.to, principals: d.principals, trigger: d.trigger,
        status: 'PLANNED', attempts: 0, lastError: undefined, at: d.notBefore, dueAt: d.notBefore,
      }));
      return { approvalId: event.data.approvalId, runId: event.data.runId, revision, sources: [...record.sources, event.data.source], deliveries: [...record.deliveries, ...added] };
    }
    case 'DeliveryAttempted':
      return update(event.data.key, (d) => ({ ...d, status: 'SENDING', attempts: event.data.attempt, at: event.data.at, dueAt: event.data.leaseUntil }));
    case 'Delivered':
      return update(event.data.key, (d) => ({ ...d, status: 'DELIVERED', at: event.data.at }));
    case 'DeliveryAttemptFailed':
      return update(event.data.key, (d) => (isFinal(d.status) ? d : { ...d, status: 'RETRYING', lastError: event.data.error, at: event.data.at, dueAt: event.data.retryAt }));
    case 'DeliveryFailed':
      return update(event.data.key, (d) => (d.status === 'DELIVERED' ? d : { ...d, status: 'FAILED', lastError: event.data.error, at: event.data.at }));
    case 'DeliverySkipped':
      return update(event.data.key, (d) => ({ ...d, status: 'SKIPPED', at: event.data.at }));
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** Folds a whole stream. */
export function foldRecord(events: readonly NotificationEvent[]): NotificationRecord {
  return events.reduce(evolveRecord, emptyRecord);
}

/** Delivered, failed for good, or skipped: nothing more will happen to it. */
export function isFinal(status: DeliveryStatus): boolean {
  return status === 'DELIVERED' || status === 'FAILED' || status === 'SKIPPED';
}

/**
 * The deliveries that may be claimed now: planned or retrying and due, or sending with an expired
 * lease (its claimant died between claim and outcome: the message may have gone out, so a retry is
 * at-least-once, and the receiver de-duplicates by the idempotency key).
 */
export function dueDeliveries(record: NotificationRecord, now: Date): DeliveryState[] {
  return record.deliveries.filter((d) => !isFinal(d.status) && Date.parse(d.dueAt) <= now.getTime());
}

/** The earliest instant something in the record falls due, or undefined when all is final. */
export function nextDueAt(record: NotificationRecord): number | undefined {
  let next: number | undefined;
  for (const d of record.deliveries) if (!isFinal(d.status)) next = Math.min(next ?? Infinity, Date.parse(d.dueAt));
  return next;
}

/** Exponential backoff without jitter (the domain has no randomness): base × 2^(attempt-1), capped. */
export function retryDelayMs(attempt: number, retry: { baseDelayMs: number; maxDelayMs: number }): number {
  return Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * An error text safe to store: every known secret value and every URL's path, query and user info
 * are removed (a Slack webhook URL is its own token), and it is cut to 500 characters.
 */
export function scrubError(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[secret]');
  out = out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)(?:[^\s/@]*@)?([^\s/?#]+)[^\s]*/gi, '$1$2/[…]');
  return out.slice(0, 500);
}
