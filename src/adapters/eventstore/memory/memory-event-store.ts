import {
  type AllFilter,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  StoreClosedError,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
} from '../../../domain/ports/event-store.js';
import { ChangeSignal } from '../shared/change-signal.js';
import { type CodecOptions, EventCodec, type StoredRow, validateStreamId } from '../shared/codec.js';
import { compareSequencePositions, formatSequencePosition, parseSequencePosition } from '../shared/positions.js';
import { PullSubscription } from '../shared/pull-subscription.js';
import { checkExpectedRevision } from '../shared/revisions.js';
import { matchesFilter, normalizeAfterRevision, normalizeCount, normalizeRevision, pageSize } from '../shared/reading.js';

export interface MemoryEventStoreOptions extends CodecOptions {
  /** Source of `recordedAt`; defaults to the wall clock. */
  readonly now?: () => Date;
}

/**
 * The log in a process's memory: for tests and throw-away runs. It stores JSON text, as the
 * durable stores do, so what you read back is exactly what a durable store would give you.
 */
export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  return new MemoryEventStore(options);
}

class MemoryEventStore implements EventStore {
  private readonly codec: EventCodec;
  private readonly now: () => Date;
  private readonly all: StoredRow[] = [];
  private readonly streams = new Map<string, StoredRow[]>();
  private readonly changes = new ChangeSignal();
  private readonly subscriptions = new Set<PullSubscription<unknown>>();
  private closed = false;

  constructor(options: MemoryEventStoreOptions) {
    this.codec = new EventCodec(options);
    this.now = options.now ?? (() => new Date());
  }

  async append(streamId: string, events: readonly EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision ?? 'any';
    const prepared = this.codec.prepareAppend(streamId, events, expected, options.chain);
    const stream = this.streams.get(streamId);
    const last = stream ? stream.length - 1 : -1;
    checkExpectedRevision(streamId, expected, last < 0 ? 'no_stream' : last);
    const rows = stream ?? [];
    const recordedAt = this.now();
    for (const event of prepared) {
      const row: StoredRow = {
        id: event.id,
        streamId,
        revision: rows.length,
        position: formatSequencePosition(this.all.length + 1),
        type: event.type,
        data: event.dataJson,
        metadata: event.metadataJson,
        recordedAt,
      };
      rows.push(row);
      this.all.push(row);
    }
    if (!stream) this.streams.set(streamId, rows);
    this.changes.bump([streamId]);
    const lastRow = rows[rows.length - 1] as StoredRow;
    const lastHash = prepared[prepared.length - 1]?.metadata.hash;
    return { nextExpectedRevision: lastRow.revision, position: lastRow.position, ...(options.chain && lastHash ? { lastHash } : {}) };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    validateStreamId(streamId);
    const rows = this.streams.get(streamId) ?? [];
    const max = normalizeCount(options.maxCount);
    const out: RecordedEvent[] = [];
    if (options.direction === 'backwards') {
      const from = Math.min(normalizeRevision(options.fromRevision, rows.length - 1), rows.length - 1);
      for (let r = from; r >= 0 && out.length < max; r--) out.push(this.codec.decode(rows[r] as StoredRow));
    } else {
      for (let r = normalizeRevision(options.fromRevision, 0); r < rows.length && out.length < max; r++) {
        out.push(this.codec.decode(rows[r] as StoredRow));
      }
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const max = normalizeCount(options.maxCount);
    const filter = options.filter;
    const out: RecordedEvent[] = [];
    if (options.direction === 'backwards') {
      const before = options.after === undefined ? this.all.length + 1 : parseSequencePosition(options.after);
      for (let i = Math.min(before - 1, this.all.length) - 1; i >= 0 && out.length < max; i--) {
        const row = this.all[i] as StoredRow;
        if (matchesFilter(row, filter)) out.push(this.codec.decode(row));
      }
    } else {
      const after = options.after === undefined ? 0 : parseSequencePosition(options.after);
      for (let i = after; i < this.all.length && out.length < max; i++) {
        const row = this.all[i] as StoredRow;
        if (matchesFilter(row, filter)) out.push(this.codec.decode(row));
      }
    }
    return out;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.assertOpen();
    const start =
      options.after === undefined ? 0 : options.after === 'end' ? this.all.length : parseSequencePosition(options.after);
    const filter = options.filter;
    return this.track(
      new PullSubscription<number>(
        start,
        (after) => this.scanAll(after, filter),
        this.changes,
        (sub) => this.subscriptions.delete(sub as PullSubscription<unknown>),
      ),
    );
  }

  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.assertOpen();
    validateStreamId(streamId);
    const start =
      options.afterRevision === undefined
        ? -1
        : options.afterRevision === 'end'
          ? (this.streams.get(streamId)?.length ?? 0) - 1
          : normalizeAfterRevision(options.afterRevision);
    return this.track(
      new PullSubscription<number>(
        start,
        (after) => {
          this.assertOpen();
          const rows = this.streams.get(streamId) ?? [];
          const page = rows.slice(after + 1, after + 1 + pageSize).map((row) => this.codec.decode(row));
          return { events: page, cursor: after + page.length };
        },
        this.changes,
        (sub) => this.subscriptions.delete(sub as PullSubscription<unknown>),
        streamId,
      ),
    );
  }

  comparePositions(a: Position, b: Position): number {
    return compareSequencePositions(a, b);
  }

  async headPosition(): Promise<Position | undefined> {
    this.assertOpen();
    return this.all.length === 0 ? undefined : formatSequencePosition(this.all.length);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }

  /** Pages through $all after a sequence number; the cursor passes filtered-out events too. */
  private scanAll(after: number, filter: AllFilter | undefined): { events: RecordedEvent[]; cursor: number } {
    this.assertOpen();
    const events: RecordedEvent[] = [];
    let i = after;
    for (; i < this.all.length && events.length < pageSize; i++) {
      const row = this.all[i] as StoredRow;
      if (matchesFilter(row, filter)) events.push(this.codec.decode(row));
    }
    return { events, cursor: i };
  }

  private track<C>(sub: PullSubscription<C>): Subscription {
    this.subscriptions.add(sub as PullSubscription<unknown>);
    return sub;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}
