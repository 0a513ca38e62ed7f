import type Database from 'better-sqlite3';
import {
  type AllFilter,
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
import { ChangeSignal } from '../shared/change-signal.js';
import { type CodecOptions, EventCodec, type PreparedEvent, validateStreamId } from '../shared/codec.js';
import { compareSequencePositions, formatSequencePosition, parseSequencePosition } from '../shared/positions.js';
import { type Page, PullSubscription } from '../shared/pull-subscription.js';
import { normalizeAfterRevision, normalizeCount, normalizeRevision, pageSize } from '../shared/reading.js';
import { checkExpectedRevision } from '../shared/revisions.js';
import { DEFAULT_RECENT_EVENTS, type EventRow, RecentEvents } from './recent-events.js';
import { AllQueries, filterArgs, prepareStatements, sqlLimit, type StoreStatements } from './queries.js';
import { migrate, refuseNewerLayout } from './schema.js';
import { isSqliteBusy, openSqliteFile } from '../../sqlite-file.js';

export interface SqliteEventStoreOptions extends CodecOptions {
  /** The database file; created with its folder's permissions if missing. */
  readonly path: string;
  /**
   * `process` (default): a commit survives the process being killed, not a power cut
   * (WAL, synchronous NORMAL). `power`: it survives a power cut too (synchronous FULL).
   */
  readonly durability?: 'process' | 'power';
  /** How often live subscriptions look for commits made by other processes. Default 20 ms. */
  readonly pollIntervalMs?: number;
  /**
   * How long a write waits for another process's lock before failing. Default 5,000 ms. Writes
   * wait without blocking the event loop (they retry every few ms); reads use it as SQLite's busy timeout.
   */
  readonly busyTimeoutMs?: number;
  /** Source of `recordedAt`; defaults to the wall clock. */
  readonly now?: () => Date;
  /** How many of the newest events are kept decoded for this process's followers of `$all`. Default 4,096. */
  readonly recentEvents?: number;
  /** How much stored text (data + metadata) those kept events may weigh together. Default 16 MiB. */
  readonly recentEventBytes?: number;
}

/** The SQLite store, with what it can say about its file. */
export interface SqliteEventStore extends EventStore {
  /** The settings in force on this connection: what the durability promise rests on. */
  settings(): { path: string; journalMode: string; synchronous: 'NORMAL' | 'FULL' | 'OTHER' };
}

/** An append waiting for the next group commit. */
interface PendingAppend {
  readonly streamId: string;
  readonly events: PreparedEvent[];
  readonly expected: ExpectedRevision;
  readonly chained: boolean;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
  /** The rows as written, for the followers' shared window once the transaction has committed. */
  readonly rows: EventRow[];
  result?: AppendResult;
  error?: unknown;
}

/**
 * The embedded durable store: one SQLite file in WAL mode. Global order is commit order (one
 * writer at a time, positions assigned inside the write transaction). Appends from many async
 * callers in this process are serialized by the synchronous driver; other processes are kept out
 * by SQLite's write lock (BEGIN IMMEDIATE), and their commits reach our live subscribers through
 * a cheap `PRAGMA data_version` poll.
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteFileEventStore(options);
}

class SqliteFileEventStore implements SqliteEventStore {
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly codec: EventCodec;
  private readonly now: () => Date;
  private readonly changes: ChangeSignal;
  private readonly recent: RecentEvents;
  private readonly subscriptions = new Set<PullSubscription<unknown>>();
  private readonly pollIntervalMs: number;
  private poller: NodeJS.Timeout | undefined;
  private dataVersion = 0;
  private closed = false;

  private readonly stmt: StoreStatements;
  private readonly allQueries: AllQueries;
  private readonly groupTx: (batch: readonly PendingAppend[]) => void;
  private queued: PendingAppend[] = [];
  private readonly busyTimeoutMs: number;
  private readonly noWait: Database.Statement;
  private readonly readWait: Database.Statement;
  private busySince: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly scanTx: (after: number, filter: AllFilter | undefined) => Page<number>;
  private lastRecordedAt = Number.NaN;
  private lastDate = new Date(Number.NaN);

  constructor(options: SqliteEventStoreOptions) {
    this.codec = new EventCodec(options);
    this.now = options.now ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 20;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.path = options.path;
    this.db = openSqliteFile(options.path, options, migrate, refuseNewerLayout);
    this.stmt = prepareStatements(this.db);
    this.allQueries = new AllQueries(this.db);
    this.noWait = this.db.prepare('PRAGMA busy_timeout = 0');
    this.readWait = this.db.prepare(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
    this.dataVersion = this.stmt.dataVersion.get() as number;
    this.changes = new ChangeSignal((waiters) => this.setPolling(waiters > 0));
    this.recent = new RecentEvents(options.recentEvents ?? DEFAULT_RECENT_EVENTS, (row) => this.decode(row), options.recentEventBytes);

    /** Writes one append's rows after `last`, inside the group's transaction. */
    const writeRows = (streamId: string, events: PreparedEvent[], last: number, written: EventRow[]): AppendResult => {
      let revision = last;
      let position = 0;
      const recordedAt = this.now().getTime();
      for (const e of events) {
        revision++;
        const info = this.stmt.insert.run(streamId, revision, e.id, e.type, e.dataJson, e.metadataJson, recordedAt);
        position = Number(info.lastInsertRowid);
        written.push([position, streamId, revision, e.id, e.type, e.dataJson, e.metadataJson, recordedAt]);
      }
      return { nextExpectedRevision: revision, position: formatSequencePosition(position) };
    };
    // Group commit: appends that arrive in the same event-loop turn share one transaction. A
    // revision conflict refuses its own append before it writes a row, so no savepoint is needed;
    // any other SQLite error aborts the whole group, and every append in it is rejected.
    // IMMEDIATE takes the write lock before any revision is read: no lock upgrade, no deadlock.
    const groupTx = this.db.transaction((batch: readonly PendingAppend[]) => {
      for (const item of batch) {
        item.rows.length = 0; // a batch retried after SQLITE_BUSY starts its rows again
        const last = this.stmt.lastRevision.get(item.streamId);
        try {
          checkExpectedRevision(item.streamId, item.expected, last === undefined ? 'no_stream' : last);
        } catch (error) {
          item.error = error;
          continue;
        }
        item.result = writeRows(item.streamId, item.events, last ?? -1, item.rows);
        const lastHash = item.chained ? item.events[item.events.length - 1]?.metadata.hash : undefined;
        if (lastHash) item.result = { ...item.result, lastHash };
      }
    });
    this.groupTx = (batch) => groupTx.immediate(batch);
    // One read transaction: the page and the head come from the same snapshot.
    this.scanTx = this.db.transaction((after: number, filter: AllFilter | undefined): Page<number> => {
      const head = this.stmt.head.get() ?? 0;
      const shared = this.recent.page(after, head, filter, pageSize);
      if (shared) return shared;
      const rows = this.allQuery('forwards', filter).all(...filterArgs(filter), after, pageSize);
      const events = rows.map((row) => this.recent.decode(row, head));
      if (rows.length === pageSize) return { events, cursor: (rows[rows.length - 1] as EventRow)[0] };
      return { events, cursor: Math.max(after, head), caughtUp: true };
    });
  }

  append(streamId: string, events: readonly EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    try {
      this.assertOpen();
      const expected = options.expectedRevision ?? 'any';
      const prepared = this.codec.prepareAppend(streamId, events, expected, options.chain);
      return new Promise<AppendResult>((resolve, reject) => {
        if (this.queued.length === 0 && !this.retryTimer) setImmediate(() => this.flush());
        this.queued.push({ streamId, events: prepared, expected, chained: options.chain !== undefined, rows: [], resolve, reject });
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Commits every queued append in one transaction and settles each caller's promise. */
  private flush(): void {
    this.retryTimer = undefined;
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    try {
      if (this.closed) throw new StoreClosedError();
      // Another process holds the write lock: SQLite's busy handler would sleep on this thread
      // (in steps of up to 100 ms). Try without waiting and retry shortly, off the event loop.
      this.noWait.run();
      try {
        this.groupTx(batch);
      } finally {
        this.readWait.run();
      }
      this.busySince = undefined;
    } catch (error) {
      if (isSqliteBusy(error) && !this.closed) {
        const since = (this.busySince ??= Date.now());
        if (Date.now() - since < this.busyTimeoutMs) {
          this.queued = [...batch, ...this.queued];
          this.retryTimer = setTimeout(() => this.flush(), 1 + Math.floor(Math.random() * 3));
          return;
        }
        this.busySince = undefined;
      }
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) if (item.result) for (const row of item.rows) this.recent.remember(row);
    // Naming the streams lets a stream subscription sleep through other streams' commits.
    if (batch.some((item) => item.result)) this.changes.bump(batch.filter((item) => item.result).map((item) => item.streamId));
    for (const item of batch) {
      if (item.result) item.resolve(item.result);
      else item.reject(item.error);
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    validateStreamId(streamId);
    const max = sqlLimit(normalizeCount(options.maxCount));
    const rows =
      options.direction === 'backwards'
        ? this.stmt.streamBackwards.all(streamId, normalizeRevision(options.fromRevision, Number.MAX_SAFE_INTEGER), max)
        : this.stmt.streamForwards.all(streamId, normalizeRevision(options.fromRevision, 0), max);
    return rows.map((row) => this.decode(row));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const direction = options.direction ?? 'forwards';
    const max = sqlLimit(normalizeCount(options.maxCount));
    const cursor =
      options.after === undefined
        ? direction === 'forwards'
          ? 0
          : Number.MAX_SAFE_INTEGER
        : parseSequencePosition(options.after);
    const rows = this.allQuery(direction, options.filter).all(...filterArgs(options.filter), cursor, max);
    return rows.map((row) => this.recent.decode(row));
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.assertOpen();
    const start =
      options.after === undefined
        ? 0
        : options.after === 'end'
          ? (this.stmt.head.get() ?? 0)
          : parseSequencePosition(options.after);
    const filter = options.filter;
    return this.track(
      new PullSubscription<number>(
        start,
        (after) => {
          this.assertOpen();
          return this.scanTx(after, filter);
        },
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
          ? (this.stmt.lastRevision.get(streamId) ?? -1)
          : normalizeAfterRevision(options.afterRevision);
    return this.track(
      new PullSubscription<number>(
        start,
        (after) => {
          this.assertOpen();
          const rows = this.stmt.streamForwards.all(streamId, after + 1, pageSize);
          return { events: rows.map((row) => this.recent.decode(row)), cursor: after + rows.length, caughtUp: rows.length < pageSize };
        },
        this.changes,
        (sub) => this.subscriptions.delete(sub as PullSubscription<unknown>),
        streamId,
      ),
    );
  }

  settings(): ReturnType<SqliteEventStore['settings']> {
    this.assertOpen();
    const sync = this.db.pragma('synchronous', { simple: true });
    return {
      path: this.path,
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: sync === 1 ? 'NORMAL' : sync === 2 ? 'FULL' : 'OTHER',
    };
  }

  comparePositions(a: Position, b: Position): number {
    return compareSequencePositions(a, b);
  }

  async headPosition(): Promise<Position | undefined> {
    this.assertOpen();
    const head = this.stmt.head.get();
    return head === null || head === undefined ? undefined : formatSequencePosition(head);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.flush(); // what callers were promised before close is committed, not dropped
    this.closed = true;
    this.setPolling(false);
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.db.close();
  }

  private allQuery(direction: 'forwards' | 'backwards', filter: AllFilter | undefined): Database.Statement<unknown[], EventRow> {
    return this.allQueries.get(direction, filter);
  }

  private decode(row: EventRow): RecordedEvent {
    const [position, streamId, revision, id, type, data, metadata, recordedAt] = row;
    // The events of one group commit share their recordedAt: one Date for a run of them.
    if (recordedAt !== this.lastRecordedAt) {
      this.lastRecordedAt = recordedAt;
      this.lastDate = new Date(recordedAt);
    }
    return this.codec.decodeFields(id, streamId, revision, formatSequencePosition(position), type, data, metadata, this.lastDate);
  }

  /** Polls for other processes' commits only while someone waits for live events. */
  private setPolling(on: boolean): void {
    if (on && !this.poller && !this.closed) {
      this.poller = setInterval(() => this.checkForeignCommits(), this.pollIntervalMs);
      this.poller.unref();
    } else if (!on && this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }

  private checkForeignCommits(): void {
    if (this.closed) return;
    const version = this.stmt.dataVersion.get() as number;
    if (version !== this.dataVersion) {
      this.dataVersion = version;
      this.changes.bump();
    }
  }

  private track<C>(sub: PullSubscription<C>): Subscription {
    this.subscriptions.add(sub as PullSubscription<unknown>);
    return sub;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}
