import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  type ResolvedEvent,
  START,
  StreamNotFoundError,
} from '@eventstore/db-client';
import {
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  StoreClosedError,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
} from '../../../domain/ports/event-store.js';
import { INTERRUPT_GRACE_MS } from '../../../domain/run/next-actions.js';
import { type CodecOptions, EventCodec, validateStreamId } from '../shared/codec.js';
import { normalizeAfterRevision, normalizeCount, normalizeRevision } from '../shared/reading.js';
import { ClientStreamSubscription, type ClientStream } from './client-subscription.js';
import { translateError } from './errors.js';
import { retryUnavailable, storeTarget, type UnavailableRetry } from './transient.js';
import { isSystemEvent, keeps, serverFilter } from './filters.js';
import { type Namespace, namespace } from './namespace.js';
import { compareEsdbPositions, type EsdbPosition, formatEsdbPosition, parseEsdbPosition } from './positions.js';

/** The most an append's retries wait in all: half the engine's interrupt grace (see append). */
export const APPEND_WAIT_BUDGET_MS = INTERRUPT_GRACE_MS / 2;

export interface EsdbEventStoreOptions extends CodecOptions {
  /** e.g. `esdb://host:2113?tls=false` (what `GATEHOUSE_EVENTSTORE` holds). */
  readonly connectionString: string;
  /**
   * Isolates this store inside a shared server: stream ids get this prefix and `$all` reads see
   * only those streams. For test runs against a real server; leave empty in production.
   */
  readonly namespace?: string;
  /** How a call the server answers UNAVAILABLE is retried (reads always; appends only with an exact expected revision). */
  readonly unavailableRetry?: UnavailableRetry;
}

type ClientRecord = NonNullable<ResolvedEvent['event']>;

/** Events asked for per `$all` read round trip; a bounded read asks for a little more than it needs. */
const READ_PAGE = 4096;
const READ_SLACK = 32;

/**
 * The production store: EventStoreDB through the official gRPC client. Validation and parsing
 * are the shared codec's; this file maps the port onto the client (revisions as bigint, the
 * `$all` position as an opaque cursor) and filters out the events the server writes itself.
 * The client owns the connection and its reconnects.
 */
export function createEsdbEventStore(options: EsdbEventStoreOptions): EventStore {
  return new EsdbEventStore(options);
}

class EsdbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly codec: EventCodec;
  private readonly ns: Namespace;
  private readonly subscriptions = new Set<ClientStreamSubscription>();
  private closed = false;
  private readonly target: string;
  private readonly retry: UnavailableRetry | undefined;

  constructor(options: EsdbEventStoreOptions) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.target = storeTarget(options.connectionString);
    this.retry = options.unavailableRetry;
    this.codec = new EventCodec(options);
    this.ns = namespace(options.namespace);
  }

  async append(streamId: string, events: readonly EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision ?? 'any';
    const prepared = this.codec.prepareAppend(streamId, events, expected, options.chain);
    const send = () =>
      this.client.appendToStream(
        this.ns.toServer(streamId),
        prepared.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data as never, metadata: e.metadata })),
        { expectedRevision: toClientExpected(expected) },
      );
    try {
      // Sent again only when a second landing is impossible: with an exact expected revision, a copy
      // of an append that did land (its answer lost) is answered by EventStoreDB as the same
      // idempotent write (same event ids at that revision) or else refused as a conflict, which
      // callers handle by reading the stream. With 'any' or 'stream_exists': not retried here.
      // Its waits stay within half the engine's interrupt grace: an append that claims a tool call
      // (ToolCallStarted) and lands later than the grace would let another instance see the call
      // overdue and recover it while this one runs it.
      const exact = typeof expected === 'number' || expected === 'no_stream';
      const result = exact ? await this.retrying(send, APPEND_WAIT_BUDGET_MS) : await send();
      if (!result.position) throw new Error(`append to ${streamId}: the server returned no position`);
      const lastHash = prepared[prepared.length - 1]?.metadata.hash;
      return { nextExpectedRevision: Number(result.nextExpectedRevision), position: formatEsdbPosition(result.position), ...(options.chain && lastHash ? { lastHash } : {}) };
    } catch (error) {
      throw translateError(error, streamId, expected);
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    validateStreamId(streamId);
    const max = normalizeCount(options.maxCount);
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision === undefined ? (backwards ? END : START) : BigInt(normalizeRevision(options.fromRevision, 0));
    if (max === 0) return [];
    let page: ResolvedEvent[];
    try {
      page = await this.retrying(() =>
        drain(
          this.client.readStream(this.ns.toServer(streamId), {
            direction: backwards ? BACKWARDS : FORWARDS,
            fromRevision: from,
            ...(Number.isFinite(max) ? { maxCount: max } : {}),
          }),
        ),
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw translateError(error, streamId);
    }
    const out: RecordedEvent[] = [];
    for (const { event: record } of page) {
      if (record && !isSystemEvent(streamId, record.type)) out.push(this.decode(record, streamId));
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const max = normalizeCount(options.maxCount);
    const backwards = options.direction === 'backwards';
    const after = options.after === undefined ? undefined : parseEsdbPosition(options.after);
    const filter = options.filter;
    const out: RecordedEvent[] = [];
    if (max === 0) return out;
    await this.scanAll(after, backwards, max, (record, streamId) => {
      if (!keeps(streamId, record.type, filter)) return true;
      out.push(this.decode(record, streamId));
      return out.length < max;
    });
    return out;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.assertOpen();
    const after = options.after;
    const fromPosition = after === undefined ? START : after === 'end' ? END : parseEsdbPosition(after);
    const filter = options.filter;
    const source = this.client.subscribeToAll({ fromPosition, filter: serverFilter(filter, this.ns) });
    return this.track(source as unknown as ClientStream, (resolved) => {
      const record = resolved.event;
      const streamId = record && this.ns.fromServer(record.streamId);
      if (!record || streamId === undefined || !keeps(streamId, record.type, filter)) return undefined;
      return this.decode(record, streamId);
    });
  }

  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.assertOpen();
    validateStreamId(streamId);
    const after = options.afterRevision;
    let fromRevision: bigint | typeof START | typeof END = START;
    if (after === 'end') fromRevision = END;
    else if (after !== undefined) {
      const revision = normalizeAfterRevision(after);
      // A subscription's start revision is exclusive, as the port's afterRevision is.
      fromRevision = revision < 0 ? START : BigInt(revision);
    }
    const source = this.client.subscribeToStream(this.ns.toServer(streamId), { fromRevision });
    return this.track(source as unknown as ClientStream, (resolved) => {
      const record = resolved.event;
      if (!record || isSystemEvent(streamId, record.type)) return undefined;
      return this.decode(record, streamId);
    });
  }

  comparePositions(a: Position, b: Position): number {
    return compareEsdbPositions(parseEsdbPosition(a), parseEsdbPosition(b));
  }

  async headPosition(): Promise<Position | undefined> {
    this.assertOpen();
    let head: Position | undefined;
    // Pages of 4: the head is the newest user event, behind at most a few system events (the
    // category projection's `$>` link). Pages of 4,096 made each call send, parse and drop
    // thousands of events; pages of 33 still parsed 33 to keep one.
    await this.scanAll(undefined, true, 1, (record, streamId) => {
      if (isSystemEvent(streamId, record.type) || !record.position) return true;
      head = formatEsdbPosition(record.position);
      return false;
    }, 3);
    return head;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }

  /**
   * Walks `$all` from an exclusive cursor, page by page, handing each event of this namespace
   * to `visit` until it returns false. The client's reads take no filter, so system events and
   * the port's filters are skipped here; `want` sizes the pages of a bounded read.
   */
  private async scanAll(
    after: EsdbPosition | undefined,
    backwards: boolean,
    want: number,
    visit: (record: ClientRecord, streamId: string) => boolean,
    slack = READ_SLACK,
  ): Promise<void> {
    let cursor = after;
    let wanted = want;
    for (;;) {
      const pageSize = Number.isFinite(wanted) ? Math.min(wanted + slack, READ_PAGE) : READ_PAGE;
      const from = cursor;
      const page = await this.retrying(() =>
        drain(
          this.client.readAll({
            direction: backwards ? BACKWARDS : FORWARDS,
            fromPosition: from ?? (backwards ? END : START),
            maxCount: pageSize + (from && !backwards ? 1 : 0),
          }),
        ),
      );
      let seen = 0;
      let last: EsdbPosition | undefined;
      let stop = false;
      for (const { event: record } of page) {
        if (!record?.position) continue;
        // A forwards read includes its start position; ours is exclusive.
        if (cursor && compareEsdbPositions(record.position, cursor) * (backwards ? -1 : 1) <= 0) continue;
        seen++;
        last = record.position;
        const streamId = this.ns.fromServer(record.streamId);
        if (streamId === undefined) continue;
        if (!visit(record, streamId)) {
          stop = true;
          break;
        }
        if (!isSystemEvent(streamId, record.type)) wanted = Math.max(1, wanted - 1);
      }
      if (stop || seen < pageSize || !last) return;
      cursor = last;
    }
  }

  private decode(record: ClientRecord, streamId: string): RecordedEvent {
    if (!record.position) throw new Error(`event ${streamId}@${record.revision} came without a position`);
    return this.codec.decodeFields(
      record.id,
      streamId,
      Number(record.revision),
      formatEsdbPosition(record.position),
      record.type,
      record.data,
      record.metadata,
      record.created,
    );
  }

  /** A call safe to send twice, retried while the server is briefly unavailable (see transient.ts). */
  private retrying<T>(call: () => Promise<T>, waitBudgetMs?: number): Promise<T> {
    const retry = waitBudgetMs === undefined ? this.retry : { ...this.retry, waitBudgetMs: Math.min(waitBudgetMs, this.retry?.waitBudgetMs ?? waitBudgetMs) };
    return retryUnavailable(() => {
      this.assertOpen();
      return call();
    }, this.target, retry);
  }

  private track(source: ClientStream, convert: (resolved: ResolvedEvent) => RecordedEvent | undefined): Subscription {
    const sub = new ClientStreamSubscription(source, convert, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(sub);
    return sub;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/**
 * Reads a bounded read to its end before anything is decoded: a read left half-consumed keeps
 * its gRPC call open, and the client's dispose() would then wait for it forever.
 */
async function drain(reading: AsyncIterable<ResolvedEvent>): Promise<ResolvedEvent[]> {
  const out: ResolvedEvent[] = [];
  for await (const resolved of reading) out.push(resolved);
  return out;
}

function toClientExpected(expected: ExpectedRevision): 'any' | 'no_stream' | 'stream_exists' | bigint {
  return typeof expected === 'number' ? BigInt(expected) : expected;
}
