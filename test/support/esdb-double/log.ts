import { randomUUID } from 'node:crypto';

/**
 * The double's storage: one in-memory transaction log with EventStoreDB's shape. Positions are
 * growing byte offsets, not dense integers; the events of one append share the commit position
 * of the append's first prepare (an implicit transaction) and each has its own prepare position,
 * so cursors must carry both to be exact.
 */

/** A global log position; ordered by commit, then prepare. */
export interface LogPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** An event as the double stores it. Revisions are bigint: a tombstone's is 2^63 - 1. */
export interface LogRecord {
  readonly streamId: string;
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
  /** 100 ns ticks since the Unix epoch, as the server sends them. */
  readonly created: bigint;
  readonly position: LogPosition;
}

/** What an append or delete met: the stream's last revision, or no stream at all. */
export type CurrentRevision = bigint | 'no_stream';

export type ExpectedState = { kind: 'any' } | { kind: 'no_stream' } | { kind: 'stream_exists' } | { kind: 'revision'; revision: bigint };

export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

export type AppendOutcome =
  | { kind: 'success'; revision: bigint; position: LogPosition }
  | { kind: 'wrong_expected_version'; current: CurrentRevision }
  | { kind: 'stream_deleted' };

/** EventStoreDB writes a hard delete as this event, at this revision, into the stream itself. */
export const TOMBSTONE_TYPE = '$streamDeleted';
export const TOMBSTONE_REVISION = (1n << 63n) - 1n;

interface StreamState {
  readonly records: LogRecord[];
  /** Soft delete: revisions below this are hidden from stream reads (`$tb`). */
  truncateBefore: bigint;
  tombstoned: boolean;
}

// Every record also occupies a header's worth of bytes, as a prepare record does on disk.
const RECORD_OVERHEAD = 88n;
const FIRST_POSITION = 1_024n;

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export class EventLog {
  /** `$all` in order. */
  readonly all: LogRecord[] = [];
  private readonly streams = new Map<string, StreamState>();
  private nextOffset = FIRST_POSITION;
  private listeners = new Set<() => void>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Checks the expected revision and appends all events, or nothing. */
  append(streamId: string, expected: ExpectedState, events: readonly ProposedEvent[]): AppendOutcome {
    const stream = this.streams.get(streamId);
    if (stream?.tombstoned) return { kind: 'stream_deleted' };
    const current = this.currentRevision(streamId);
    if (!satisfies(expected, current)) return { kind: 'wrong_expected_version', current };
    if (events.length === 0) {
      // The server answers an empty append with the stream as it is.
      return { kind: 'success', revision: current === 'no_stream' ? -1n : current, position: this.headPosition() };
    }
    let revision = current === 'no_stream' ? -1n : current;
    const written = this.write(events.map((e) => ({ ...e, streamId, revision: ++revision })));
    return { kind: 'success', revision, position: (written[written.length - 1] as LogRecord).position };
  }

  /** Soft delete: the stream reads as not found; its events stay in `$all` (until a scavenge). */
  softDelete(streamId: string, expected: ExpectedState): AppendOutcome {
    const stream = this.streams.get(streamId);
    if (stream?.tombstoned) return { kind: 'stream_deleted' };
    const current = this.currentRevision(streamId);
    if (!satisfies(expected, current)) return { kind: 'wrong_expected_version', current };
    const truncateBefore = current === 'no_stream' ? 0n : current + 1n;
    if (stream) stream.truncateBefore = truncateBefore;
    const metaStream = `$$${streamId}`;
    const metaRevision = this.lastRevisionOf(metaStream);
    const json = Buffer.from(JSON.stringify({ $tb: Number(truncateBefore) }));
    const [record] = this.write([
      { streamId: metaStream, revision: metaRevision + 1n, id: randomUUID(), type: '$metadata', contentType: 'application/json', data: json, customMetadata: new Uint8Array() },
    ]);
    return { kind: 'success', revision: current === 'no_stream' ? -1n : current, position: (record as LogRecord).position };
  }

  /** Hard delete: a `$streamDeleted` event ends the stream for good. */
  tombstone(streamId: string, expected: ExpectedState): AppendOutcome {
    const stream = this.streams.get(streamId);
    if (stream?.tombstoned) return { kind: 'stream_deleted' };
    const current = this.currentRevision(streamId);
    if (!satisfies(expected, current)) return { kind: 'wrong_expected_version', current };
    const [record] = this.write([
      { streamId, revision: TOMBSTONE_REVISION, id: randomUUID(), type: TOMBSTONE_TYPE, contentType: 'application/octet-stream', data: new Uint8Array(), customMetadata: new Uint8Array() },
    ]);
    (this.streams.get(streamId) as StreamState).tombstoned = true;
    return { kind: 'success', revision: current === 'no_stream' ? -1n : current, position: (record as LogRecord).position };
  }

  /** The readable events of a stream, or `deleted` / `not_found`. */
  stream(streamId: string): readonly LogRecord[] | 'deleted' | 'not_found' {
    const stream = this.streams.get(streamId);
    if (!stream) return 'not_found';
    if (stream.tombstoned) return 'deleted';
    const visible = stream.records.filter((r) => r.revision >= stream.truncateBefore);
    return visible.length === 0 ? 'not_found' : visible;
  }

  /** Live records of a stream for a subscription: everything, including soft-deleted ones it never saw. */
  streamRecords(streamId: string): readonly LogRecord[] {
    return this.streams.get(streamId)?.records ?? [];
  }

  isTombstoned(streamId: string): boolean {
    return this.streams.get(streamId)?.tombstoned ?? false;
  }

  /** The position just after the last record: what an `end` subscription starts from. */
  headPosition(): LogPosition {
    const last = this.all[this.all.length - 1];
    return last ? last.position : { commit: 0n, prepare: 0n };
  }

  /** Index of the first record in `$all` strictly after `position`. */
  indexAfter(position: LogPosition): number {
    let lo = 0;
    let hi = this.all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (comparePositions((this.all[mid] as LogRecord).position, position) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first record in `$all` at or after `position`. */
  indexAtOrAfter(position: LogPosition): number {
    let lo = 0;
    let hi = this.all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (comparePositions((this.all[mid] as LogRecord).position, position) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Calls `listener` after every write; returns the unsubscribe function. */
  onWrite(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** How many followers (live subscriptions, the category-link writer) wait on writes. */
  followerCount(): number {
    return this.listeners.size;
  }

  private currentRevision(streamId: string): CurrentRevision {
    const records = this.streams.get(streamId)?.records;
    const last = records?.[records.length - 1];
    return last ? last.revision : 'no_stream';
  }

  private lastRevisionOf(streamId: string): bigint {
    const current = this.currentRevision(streamId);
    return current === 'no_stream' ? -1n : current;
  }

  private write(events: ReadonlyArray<Omit<LogRecord, 'position' | 'created'>>): LogRecord[] {
    const created = BigInt(this.now().getTime()) * 10_000n;
    const commit = this.nextOffset;
    const written: LogRecord[] = [];
    for (const event of events) {
      const prepare = this.nextOffset;
      this.nextOffset +=
        RECORD_OVERHEAD + BigInt(event.data.length + event.customMetadata.length + event.streamId.length + event.type.length);
      const record: LogRecord = { ...event, created, position: { commit, prepare } };
      let stream = this.streams.get(event.streamId);
      if (!stream) {
        stream = { records: [], truncateBefore: 0n, tombstoned: false };
        this.streams.set(event.streamId, stream);
      }
      stream.records.push(record);
      this.all.push(record);
      written.push(record);
    }
    for (const listener of [...this.listeners]) listener();
    return written;
  }
}

function satisfies(expected: ExpectedState, current: CurrentRevision): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return current === 'no_stream';
    case 'stream_exists':
      return current !== 'no_stream';
    case 'revision':
      return current === expected.revision;
  }
}
