import type { AllFilter, RecordedEvent } from '../../../domain/ports/event-store.js';
import type { Page } from '../shared/pull-subscription.js';

/** A row as the SQLite store reads it (`.raw()` statements), or as it just wrote it. */
export type EventRow = [
  position: number,
  streamId: string,
  revision: number,
  eventId: string,
  type: string,
  data: string,
  metadata: string,
  recordedAt: number,
];

/** How many of the newest events a store keeps decoded for its followers, by default. */
export const DEFAULT_RECENT_EVENTS = 4_096;

/**
 * How much stored text (data + metadata, in UTF-16 code units) the window holds at most, by
 * default. A count alone would let 4,096 events of up to 1 MiB each pin gigabytes; events that do
 * not fit are read from the file by each follower, as before.
 */
export const DEFAULT_RECENT_BYTES = 16 * 2 ** 20;

/**
 * The newest events of `$all`, decoded once and shared by every follower in this process (the
 * projections runner, the run follower, metrics, notifications, the GraphQL live feeds), so each
 * commit is parsed and validated once, not once per follower.
 *
 * One slot per `position % capacity`, holding the newest position that landed there: memory is
 * bounded by `capacity` events and by `budget` of their stored text (an event that would pass the
 * budget is not kept: followers read it from the file), and a follower far behind neither evicts the live window nor pins a
 * backlog (what it reads past the window it decodes for itself, as before). Rows this process
 * committed are kept as the exact text it stored and decoded on first use, by the same decode (and
 * read validation) a read from the file gets. Shared events are deeply frozen: a follower cannot
 * change what another one sees.
 */
export class RecentEvents {
  private readonly positions: Float64Array;
  private readonly slots: Array<EventRow | RecordedEvent | undefined>;
  private readonly sizes: Float64Array;
  private held = 0;

  constructor(
    private readonly capacity: number,
    private readonly decodeRow: (row: EventRow) => RecordedEvent,
    private readonly budget: number = DEFAULT_RECENT_BYTES,
  ) {
    this.positions = new Float64Array(capacity).fill(-1);
    this.slots = new Array<EventRow | RecordedEvent | undefined>(capacity);
    this.sizes = new Float64Array(capacity);
  }

  /** The stored text the window holds now (data + metadata of every held event), at most its budget. */
  get heldBytes(): number {
    return this.held;
  }

  /** A row this process has just committed: decoded when a follower first asks for it. */
  remember(row: EventRow): void {
    this.put(row[0], row, textSize(row));
  }

  /**
   * The shared decoded event for a row read from the file. Given the `head` it was read under, a
   * miss within the window of the newest events (another process's commit a live follower read) is
   * kept for the other followers; otherwise (a catch-up, a rebuild, a stream read) it is decoded
   * for the caller alone, so old pages neither pay for freezing nor churn the window.
   */
  decode(row: EventRow, head?: number): RecordedEvent {
    const position = row[0];
    const slot = position % this.capacity;
    const held = this.positions[slot] as number;
    if (held === position) return this.at(slot);
    const event = this.decodeRow(row);
    if (head === undefined || head - position >= this.capacity || held > position) return event;
    const size = textSize(row);
    if (this.held + size - (this.sizes[slot] as number) > this.budget) return event; // would not be kept: do not freeze
    return this.put(position, deepFreeze(event), size);
  }

  /**
   * A page of `$all` after `after`, served from memory when every position up to `head` is held
   * (undefined otherwise: the caller reads the file). Same contract as the store's SQL page.
   */
  page(after: number, head: number, filter: AllFilter | undefined, pageSize: number): Page<number> | undefined {
    if (head - after > this.capacity) return undefined;
    for (let p = after + 1; p <= head; p++) if (this.positions[p % this.capacity] !== p) return undefined;
    const events: RecordedEvent[] = [];
    for (let p = after + 1; p <= head; p++) {
      const slot = p % this.capacity;
      const held = this.slots[slot] as EventRow | RecordedEvent;
      const [streamId, type] = Array.isArray(held) ? [held[1], held[4]] : [held.streamId, held.type];
      if (!matches(filter, streamId, type)) continue;
      events.push(this.at(slot));
      if (events.length === pageSize) return p === head ? { events, cursor: p, caughtUp: true } : { events, cursor: p };
    }
    return { events, cursor: Math.max(after, head), caughtUp: true };
  }

  private at(slot: number): RecordedEvent {
    const held = this.slots[slot] as EventRow | RecordedEvent;
    if (!Array.isArray(held)) return held;
    const event = deepFreeze(this.decodeRow(held));
    this.slots[slot] = event;
    return event;
  }

  private put<T extends EventRow | RecordedEvent>(position: number, value: T, size: number): T {
    const slot = position % this.capacity;
    if ((this.positions[slot] as number) > position) return value;
    // The slot's older event goes either way; the new one stays only within the budget (the
    // window moves on with the log, so every slot is freed again within `capacity` positions).
    this.held -= this.sizes[slot] as number;
    this.positions[slot] = -1;
    this.slots[slot] = undefined;
    this.sizes[slot] = 0;
    if (this.held + size > this.budget) return value;
    this.positions[slot] = position;
    this.slots[slot] = value;
    this.sizes[slot] = size;
    this.held += size;
    return value;
  }
}

/** What an event's stored text weighs against the budget: its data and metadata columns. */
function textSize(row: EventRow): number {
  return row[5].length + row[6].length;
}

/** The SQL filter's meaning (`substr(stream_id, 1, n) = prefix`, `type IN (...)`), in memory. */
function matches(filter: AllFilter | undefined, streamId: string, type: string): boolean {
  if (filter?.streamPrefix && !filter.streamPrefix.some((prefix) => streamId.startsWith(prefix))) return false;
  if (filter?.eventTypes && !filter.eventTypes.includes(type)) return false;
  return true;
}

/** Freezes an event and everything under it (its `recordedAt` Date excepted: freezing cannot stop `setTime`). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof Date)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
