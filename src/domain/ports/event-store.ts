import { DomainError } from '../errors.js';
import type { EventMetadata } from '../events/metadata.js';

/**
 * The revision a stream must be at for an append to go through:
 * `any` (no check), `no_stream` (must not exist), `stream_exists` (must exist), or the exact
 * revision of its last event (revisions start at 0).
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

/** The actual state a conflicting append met: the stream's last revision, or `no_stream`. */
export type ActualRevision = 'no_stream' | number;

/** An opaque cursor in the global order of `$all`. Compare with `EventStore.comparePositions`. */
export type Position = string;

/** Metadata a caller supplies: `schemaVersion` defaults to the type's current version. */
export type EventMetadataInput = Omit<EventMetadata, 'schemaVersion'> & { schemaVersion?: number };

/** An event to append. `id` (a UUID) is generated when omitted. */
export interface EventToAppend {
  readonly id?: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadataInput;
}

/** An event as stored, with its place in its stream and in `$all`. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  readonly id: string;
  readonly streamId: string;
  /** 0-based position inside its stream. */
  readonly revision: number;
  /** Opaque cursor in `$all`. */
  readonly position: Position;
  readonly type: Type;
  readonly data: Data;
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
}

/** One event at its place in a chain, as a signer sees it before its signatures and hash are added. */
export interface ChainLink {
  readonly previousHash: string;
  /** The revision the event will have. */
  readonly revision: number;
  /** Its place in this append (0-based). */
  readonly index: number;
  readonly type: string;
  /** Exactly what will be stored (defaults applied). */
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The canonical JSON of `data`, as the store writes and hashes it (so a signer need not write it again). */
  readonly canonicalData?: string;
}

/** Signatures to add to an event's metadata before its hash is computed. */
export type ChainSigner = (link: ChainLink) => { readonly signature?: string; readonly seal?: string } | undefined;

export interface AppendOptions {
  /** Defaults to `any`. */
  readonly expectedRevision?: ExpectedRevision;
  /**
   * Extend the stream's hash chain (DESIGN.md "Audit integrity"): each event's `metadata.hash` is
   * computed from `previousHash` (the last event's hash, or the genesis value for a new stream) over
   * exactly what is stored. Needs an exact `expectedRevision` (a number or `no_stream`).
   */
  readonly chain?: {
    readonly previousHash: string;
    /** Called for each event where its previous hash is known; what it returns is stored in the metadata and hashed. */
    readonly sign?: ChainSigner;
  };
}

export interface AppendResult {
  /** The revision of the last appended event: pass it as the next `expectedRevision`. */
  readonly nextExpectedRevision: number;
  /** The position of the last appended event (for read-your-writes). */
  readonly position: Position;
  /** The hash of the last appended event, when the append extended a chain. */
  readonly lastHash?: string;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  readonly direction?: Direction;
  /** First revision to return (inclusive). Defaults to the start (forwards) or the end (backwards). */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

/** Narrows `$all`: every given condition must hold. */
export interface AllFilter {
  /** Stream id starts with one of these, e.g. `run-`. */
  readonly streamPrefix?: readonly string[];
  /** Event type is one of these. */
  readonly eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  /**
   * Exclusive cursor: events strictly after it (forwards) or strictly before it (backwards).
   * Omitted: from the start (forwards) or from the end (backwards).
   */
  readonly after?: Position;
  readonly direction?: Direction;
  readonly maxCount?: number;
  readonly filter?: AllFilter;
}

export interface SubscribeToAllOptions {
  /** Exclusive cursor to catch up from; omitted = from the very start; `end` = only new events. */
  readonly after?: Position | 'end';
  readonly filter?: AllFilter;
}

export interface SubscribeToStreamOptions {
  /** Exclusive: deliver revisions greater than this; omitted = from revision 0; `end` = only new. */
  readonly afterRevision?: number | 'end';
}

/**
 * Catches up from its cursor, then stays live: every matching event exactly once, in global
 * order. `close()` ends iteration, also while a `next()` is waiting, and releases everything.
 */
export interface Subscription extends AsyncIterableIterator<RecordedEvent> {
  close(): Promise<void>;
}

/**
 * The event log. Appends are atomic per call; reading a stream that does not exist returns an
 * empty list on every adapter (never an error).
 */
export interface EventStore {
  append(streamId: string, events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeToAllOptions): Subscription;
  subscribeToStream(streamId: string, options?: SubscribeToStreamOptions): Subscription;
  /** Orders two cursors of this store: negative, zero or positive. */
  comparePositions(a: Position, b: Position): number;
  /** The position of the newest event in `$all` (after filtering system events), or undefined. */
  headPosition(): Promise<Position | undefined>;
  close(): Promise<void>;
}

/** An append met a different stream revision than it expected; nothing was written. */
export class WrongExpectedRevisionError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: ActualRevision,
  ) {
    super('CONCURRENCY_CONFLICT', `stream ${streamId}: expected revision ${expected}, actual ${actual}`, {
      streamId,
      expected,
      actual,
    });
  }
}

/** The store was used after `close()`. */
export class StoreClosedError extends DomainError {
  constructor() {
    super('ILLEGAL_STATE', 'the event store is closed');
  }
}
