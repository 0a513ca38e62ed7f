import type { AllFilter, EventStore, Position, RecordedEvent, Subscription } from '../../domain/ports/event-store.js';
import { SerialSubscription } from '../../domain/ports/serial-subscription.js';

export interface SharedFeedOptions {
  /** Events one slow client may have queued before it drops them and reads them back from the log. Default 1,000. */
  readonly maxQueued?: number;
  /** Catch-up page size (from the client's cursor, or after dropping its queue). Default 200. */
  readonly pageSize?: number;
}

/**
 * One store subscription per run stream (and per `$all` filter), shared by every graphql-ws
 * client that follows it: an event is read and decoded once and handed to each client, instead of
 * each client re-reading the log on every commit.
 *
 * Each client still has its own cursor: it joins the feed first, then catches up from its cursor
 * with plain reads, and takes the shared events after that. A stream's revisions are dense, so a
 * client delivers exactly `cursor + 1` next: duplicates (read and also shared) are skipped, and a
 * gap (a shared event beyond `cursor + 1`) is filled from the log. `$all` positions are not dense:
 * there the feed starts at a known head, every client starts at the position the feed has reached
 * when it joins, and the shared order is the log's order. A client whose queue overflows drops it
 * and reads the log again from its cursor, so a slow client costs memory up to a bound only.
 */
export interface SharedFeeds {
  /** A run stream's events after revision `after` (-1: from the start; `end`: from now on). */
  stream(streamId: string, after: number | 'end'): FeedSubscription;
  /** `$all` events matching `filter` from now on. */
  all(filter: AllFilter): Subscription;
}

/** A client's subscription to a shared feed. */
export interface FeedSubscription extends Subscription {
  /** Whether another event is already known to follow the one `next()` delivered last (queued, or left to read). */
  hasNext(): boolean;
}

const byStore = new WeakMap<EventStore, SharedFeeds>();

/**
 * Subscription payloads that are handed, unchanged and never mutated, to every client of a shared
 * feed: graphql-ws may execute an operation on one of them once for all clients that ask the same.
 * (A read-model document is not one: it changes in place.)
 */
const sharedPayloads = new WeakSet<object>();

export function markSharedPayload<T extends object>(payload: T): T {
  sharedPayloads.add(payload);
  return payload;
}

export function isSharedPayload(payload: unknown): payload is object {
  return typeof payload === 'object' && payload !== null && sharedPayloads.has(payload);
}

/** The shared feeds of `store` (one set per store object, created on first use). */
export function sharedFeeds(store: EventStore): SharedFeeds {
  let feeds = byStore.get(store);
  if (!feeds) {
    feeds = createSharedFeeds(store);
    byStore.set(store, feeds);
  }
  return feeds;
}

export function createSharedFeeds(store: EventStore, options: SharedFeedOptions = {}): SharedFeeds {
  const limits: Limits = { maxQueued: options.maxQueued ?? 1_000, page: options.pageSize ?? 200 };
  const streams = new Map<string, Hub>();
  const alls = new Map<string, Hub>();
  const hubOf = (map: Map<string, Hub>, key: string, open: () => Promise<Subscription>, start: () => Promise<Position | undefined>) => {
    let hub = map.get(key);
    if (!hub) {
      const created: Hub = new Hub(open, start, () => {
        if (map.get(key) === created) map.delete(key);
      });
      hub = created;
      map.set(key, hub);
    }
    return hub;
  };
  return {
    stream(streamId, after) {
      const hub = hubOf(streams, streamId, async () => store.subscribeToStream(streamId, { afterRevision: 'end' }), async () => undefined);
      return new StreamClient(hub, limits, store, streamId, after);
    },
    all(filter) {
      const key = JSON.stringify([filter.streamPrefix ?? null, filter.eventTypes ?? null]);
      let head: Position | undefined;
      const hub = hubOf(
        alls,
        key,
        async () => store.subscribeToAll(head === undefined ? { filter } : { after: head, filter }),
        async () => (head = await store.headPosition()),
      );
      return new AllClient(hub, limits, store, filter);
    },
  };
}

interface Limits {
  readonly maxQueued: number;
  readonly page: number;
}

/** A client of a hub: what the hub hands it. */
interface Member {
  offer(event: RecordedEvent): void;
  started(position: Position | undefined): void;
  end(error?: unknown): void;
}

/** One store subscription, multicast to its members; closed when the last member leaves. */
class Hub {
  private readonly members = new Set<Member>();
  private subscription: Subscription | undefined;
  private closed = false;
  /** Resolves once the hub's subscription is open; `last` is then the newest position it has passed. */
  readonly ready: Promise<void>;
  last: Position | undefined;

  constructor(
    open: () => Promise<Subscription>,
    start: () => Promise<Position | undefined>,
    private readonly onClosed: () => void,
  ) {
    this.ready = (async () => {
      try {
        this.last = await start();
        if (this.closed) return;
        this.subscription = await open();
        if (this.closed) return void (await this.subscription.close());
      } catch (error) {
        this.fail(error);
        return;
      }
      for (const m of this.members) m.started(this.last);
      void this.pump(this.subscription);
    })();
  }

  join(member: Member): void {
    this.members.add(member);
    if (this.subscription) member.started(this.last);
  }

  leave(member: Member): void {
    if (!this.members.delete(member) || this.members.size > 0 || this.closed) return;
    this.closed = true;
    this.onClosed();
    void this.subscription?.close();
  }

  private async pump(subscription: Subscription): Promise<void> {
    try {
      for (;;) {
        const result = await subscription.next();
        if (result.done || this.closed) break;
        this.last = result.value.position;
        for (const m of this.members) m.offer(result.value);
      }
      this.fail(undefined);
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    const wasClosed = this.closed;
    this.closed = true;
    if (!wasClosed) this.onClosed();
    for (const m of [...this.members]) m.end(error);
    this.members.clear();
  }
}

/** The part both kinds of client share: a queue filled by the hub, and one `next()` at a time. */
abstract class Client extends SerialSubscription<RecordedEvent> implements FeedSubscription, Member {
  protected queue: RecordedEvent[] = [];
  protected head = 0;
  /** The log must be read (catch-up, or after a gap or an overflow) before the queue is used. */
  protected mustRead = true;
  private buffer: RecordedEvent[] = [];
  private bufferIndex = 0;
  private closed = false;
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private gapRead = false;
  private prepared = false;

  constructor(protected readonly hub: Hub, protected readonly limits: Limits) {
    super();
    hub.join(this);
  }


  hasNext(): boolean {
    if (this.closed) return false;
    if (this.mustRead) return true; // a page said more follows, a gap was seen, or the queue overflowed
    for (let i = this.bufferIndex; i < this.buffer.length; i++) if (this.accept(this.buffer[i] as RecordedEvent) !== 'skip') return true;
    for (let i = this.head; i < this.queue.length; i++) if (this.accept(this.queue[i] as RecordedEvent) !== 'skip') return true;
    return false;
  }

  offer(event: RecordedEvent): void {
    if (this.closed) return;
    if (this.queue.length - this.head >= this.limits.maxQueued) {
      // Too slow: forget the queue, read the log from the cursor instead.
      this.queue = [];
      this.head = 0;
      this.mustRead = true;
    } else {
      this.queue.push(event);
    }
    this.notify();
  }

  started(_position: Position | undefined): void {}

  end(error?: unknown): void {
    this.ended = true;
    this.failure = error;
    this.notify();
  }




  override close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.queue = [];
      this.buffer = [];
      this.hub.leave(this);
      this.notify();
    }
    return Promise.resolve();
  }

  /** Whether `event` is the one to deliver next ('take'), already delivered ('skip'), or beyond a gap ('gap'). */
  protected abstract accept(event: RecordedEvent): 'take' | 'skip' | 'gap';
  /** Reads the log after the cursor: a page, and whether more may follow. */
  protected abstract read(): Promise<{ events: RecordedEvent[]; more: boolean }>;
  /** Moves the cursor past a delivered event. */
  protected abstract delivered(event: RecordedEvent): void;
  /**
   * Before the first read: the shared subscription must be open, so that whatever is committed
   * after that read reaches the queue.
   */
  protected prepare(): Promise<void> {
    return this.hub.ready;
  }

  protected override async pull(): Promise<IteratorResult<RecordedEvent>> {
    if (!this.prepared) {
      await this.prepare();
      this.prepared = true;
    }
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const buffered = this.buffer[this.bufferIndex];
      if (buffered) {
        this.bufferIndex++;
        // A page read after the cursor: anything past the cursor is next (a truncated stream may
        // start beyond `cursor + 1`).
        if (this.accept(buffered) !== 'skip') return this.deliver(buffered);
        continue;
      }
      if (this.mustRead) {
        this.mustRead = false;
        const page = await this.read();
        if (this.closed) return { done: true, value: undefined };
        this.buffer = page.events;
        this.bufferIndex = 0;
        if (page.more) this.mustRead = true;
        continue;
      }
      const queued = this.queue[this.head];
      if (queued) {
        const verdict = this.accept(queued);
        if (verdict === 'gap' && !this.gapRead) {
          // The read covers it; the queue is then skipped up to the cursor. Should the log itself
          // have no event in between (a truncated stream), the shared event is next after all.
          this.mustRead = true;
          this.gapRead = true;
          continue;
        }
        this.gapRead = false;
        this.head++;
        if (this.head > 256 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        if (verdict !== 'skip') return this.deliver(queued);
        continue;
      }
      if (this.ended) {
        if (this.failure !== undefined) {
          const failure = this.failure;
          this.failure = undefined;
          await this.close();
          throw failure;
        }
        await this.close();
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private deliver(event: RecordedEvent): IteratorResult<RecordedEvent> {
    this.delivered(event);
    return { done: false, value: event };
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** A run stream's events after its own revision cursor. */
class StreamClient extends Client {
  private cursor: number;
  private resolveEnd: boolean;

  constructor(hub: Hub, limits: Limits, private readonly store: EventStore, private readonly streamId: string, after: number | 'end') {
    super(hub, limits);
    this.cursor = after === 'end' ? -1 : after;
    this.resolveEnd = after === 'end';
    // `end`: from the newest revision when the client joined (read right after joining, so what is
    // committed later is in the queue); nothing needs catching up.
    this.mustRead = !this.resolveEnd;
  }

  protected override async prepare(): Promise<void> {
    await this.hub.ready;
    if (!this.resolveEnd) return;
    this.resolveEnd = false;
    const [last] = await this.store.readStream(this.streamId, { direction: 'backwards', maxCount: 1 });
    this.cursor = last ? last.revision : -1;
  }

  protected accept(event: RecordedEvent): 'take' | 'skip' | 'gap' {
    if (event.revision <= this.cursor) return 'skip';
    return event.revision === this.cursor + 1 ? 'take' : 'gap';
  }

  protected async read(): Promise<{ events: RecordedEvent[]; more: boolean }> {
    const events = await this.store.readStream(this.streamId, { fromRevision: this.cursor + 1, maxCount: this.limits.page });
    return { events, more: events.length === this.limits.page };
  }

  protected delivered(event: RecordedEvent): void {
    this.cursor = event.revision;
  }
}

/** `$all` events (one filter) from the position the shared feed had reached when the client joined. */
class AllClient extends Client {
  private cursor: Position | undefined;
  private hasCursor = false;

  constructor(hub: Hub, limits: Limits, private readonly store: EventStore, private readonly filter: AllFilter) {
    super(hub, limits);
    this.mustRead = false; // from now on: nothing to catch up
  }

  override started(position: Position | undefined): void {
    if (this.hasCursor) return;
    this.hasCursor = true;
    this.cursor = position;
  }

  protected accept(event: RecordedEvent): 'take' | 'skip' | 'gap' {
    // Shared events come in log order and a read continues from the cursor: no gap can be seen.
    return this.cursor === undefined || this.store.comparePositions(event.position, this.cursor) > 0 ? 'take' : 'skip';
  }

  protected async read(): Promise<{ events: RecordedEvent[]; more: boolean }> {
    const events = await this.store.readAll(this.cursor === undefined ? { filter: this.filter, maxCount: this.limits.page } : { after: this.cursor, filter: this.filter, maxCount: this.limits.page });
    return { events, more: events.length === this.limits.page };
  }

  protected delivered(event: RecordedEvent): void {
    this.cursor = event.position;
  }
}
