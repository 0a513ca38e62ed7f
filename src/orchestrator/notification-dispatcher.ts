import type { EventStore, Position, RecordedEvent, Subscription } from '../domain/ports/event-store.js';
import { StoreClosedError } from '../domain/ports/event-store.js';
import type { NotificationChannel } from '../domain/ports/notifier.js';
import type { NotificationsConfig, Recipient } from '../domain/notifications/config.js';
import { NOTIFICATION_EVENT_TYPES } from '../domain/notifications/events.js';
import { evolveRecord, emptyRecord, isFinal, nextDueAt, type NotificationRecord } from '../domain/notifications/record.js';
import { backoffMs, FollowerHealth, pause } from '../following/health.js';
import type { Clock } from './clock.js';
import { asNotificationEvent } from './notification-record.js';
import { APPROVAL_EVENT_TYPES, planFor } from './notification-planning.js';
import { sendDue } from './notification-sender.js';

/** Where the dispatcher has planned up to (a file in the data folder; memory in tests). */
export interface NotificationCheckpoint {
  load(): Promise<Position | undefined>;
  save(position: Position): Promise<void>;
}

/** The name the dispatcher reports its health under. */
export const NOTIFICATIONS_FOLLOWER = 'notifications';

/** What the dispatcher is given by its composition root. */
export interface NotificationDispatcherOptions {
  readonly store: EventStore;
  readonly config: NotificationsConfig;
  readonly people: readonly Recipient[];
  readonly channels: Readonly<Record<string, NotificationChannel>>;
  /** The console's base URL (GATEHOUSE_PUBLIC_URL): messages link to `<publicUrl>/approvals/<id>`. */
  readonly publicUrl: string;
  readonly checkpoint: NotificationCheckpoint;
  readonly clock?: Clock;
  readonly health?: FollowerHealth;
  /** This instance, for the `actor` of what it appends. */
  readonly instance?: string;
  /** An error with no caller (a failed plan, a failed append after a send); the dispatcher goes on. */
  readonly onError?: (error: unknown) => void;
}

/** How often the notification checkpoint is written at most while approval events flow. */
const CHECKPOINT_EVERY_MS = 1_000;

/**
 * Follows the log and delivers approval notifications. Planning: each approval event after the
 * checkpoint is turned into deliveries on the approval's `notify-` stream (once, by expected
 * revision). Sending: the delivery records (the `notify-` streams, folded from the log) say what is
 * due and when; a timer wakes the dispatcher at the earliest due instant, and each attempt is
 * claimed by an append before it is sent. Nothing that matters lives only in memory: a restart
 * rebuilds the records from the log and finds what fell due while it was down.
 */
export class NotificationDispatcher {
  private readonly records = new Map<string, NotificationRecord>();
  private readonly stop = new AbortController();
  private readonly sends = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly actor: string;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private saving: Promise<void> | undefined;
  private unsaved: Position | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private lastSave = 0;

  constructor(private readonly options: NotificationDispatcherOptions) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.actor = `system:notifications${options.instance ? `:${options.instance}` : ''}`;
  }

  /**
   * Starts following; the first start on a log begins at its head (history is not announced), and
   * so does every start without a channel: nothing could be sent for what it would read, and a
   * checkpoint that never moved would make each restart read every approval since the first.
   */
  async start(): Promise<void> {
    let checkpoint = await this.options.checkpoint.load();
    if (checkpoint === undefined || Object.keys(this.options.config.channels).length === 0) {
      checkpoint = await this.options.store.headPosition();
      if (checkpoint !== undefined) await this.options.checkpoint.save(checkpoint);
    }
    this.loop = this.follow(checkpoint);
  }

  /** Looks for due deliveries now (a test with its own clock calls it after moving the clock). */
  poke(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    const tick = async () => {
      do {
        this.again = false;
        for (const [approvalId, record] of [...this.records]) {
          const due = nextDueAt(record);
          if (due === undefined || due > this.clock.now().getTime() || this.stop.signal.aborted) continue;
          try {
            for (const p of await sendDue(this.sender(), approvalId)) this.track(p);
          } catch (error) {
            this.report(error);
          }
        }
      } while (this.again && !this.stop.signal.aborted);
    };
    // Cleared in a callback, never inside tick itself: a tick with nothing due ends synchronously.
    this.ticking = tick().finally(() => {
      this.ticking = undefined;
      this.arm();
    });
    return this.ticking;
  }

  /** Stops following and waits for the sends under way to record their outcome. */
  async close(): Promise<void> {
    this.stop.abort();
    clearTimeout(this.timer);
    await this.subscription?.close();
    await this.loop;
    await this.ticking;
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.saving;
    this.writeCheckpoint();
    await this.saving;
    while (this.sends.size > 0) await Promise.allSettled([...this.sends]);
  }

  private async follow(checkpoint: Position | undefined): Promise<void> {
    const { store } = this.options;
    const filter = { streamPrefix: ['run-', 'notify-'], eventTypes: [...APPROVAL_EVENT_TYPES, ...NOTIFICATION_EVENT_TYPES] };
    const records = { streamPrefix: ['notify-'], eventTypes: [...NOTIFICATION_EVENT_TYPES] };
    const before = (a: Position, b: Position) => store.comparePositions(a, b) < 0;
    // The records are rebuilt from the notify- streams alone; the approval events are read only
    // past the checkpoint (those before it were planned already): a start does not read every
    // approval in history.
    let rebuiltTo: Position | undefined;
    let rebuilt = false;
    let cursor: Position | undefined;
    for (let attempt = 0; !this.stop.signal.aborted; ) {
      try {
        if (!rebuilt) {
          for (;;) {
            const page = await store.readAll({ after: rebuiltTo, maxCount: 1_000, filter: records });
            for (const e of page) await this.apply(e, checkpoint);
            rebuiltTo = page.at(-1)?.position ?? rebuiltTo;
            if (page.length < 1_000) break;
          }
          rebuilt = true;
          cursor = checkpoint !== undefined && rebuiltTo !== undefined && before(rebuiltTo, checkpoint) ? rebuiltTo : checkpoint;
        }
        this.subscription = store.subscribeToAll({ after: cursor, filter });
        if (this.stop.signal.aborted) break;
        this.options.health?.live(NOTIFICATIONS_FOLLOWER);
        attempt = 0;
        for await (const e of this.subscription) {
          // A record event the rebuild applied already is not applied twice.
          if (!(rebuiltTo !== undefined && e.streamId.startsWith('notify-') && !before(rebuiltTo, e.position))) await this.apply(e, checkpoint);
          cursor = e.position;
        }
        if (this.stop.signal.aborted) break;
        throw new Error('the subscription to $all ended');
      } catch (error) {
        if (this.stop.signal.aborted) break;
        this.report(error);
        this.options.health?.stalled(NOTIFICATIONS_FOLLOWER, error);
        if (error instanceof StoreClosedError) break;
        await pause(backoffMs(attempt++), this.stop.signal);
      }
    }
  }

  private async apply(e: RecordedEvent, checkpoint: Position | undefined): Promise<void> {
    if (e.streamId.startsWith('notify-')) {
      const approvalId = e.streamId.slice('notify-'.length);
      const record = evolveRecord(this.records.get(approvalId) ?? emptyRecord, asNotificationEvent(e));
      // A record whose deliveries are all final needs no memory: the log keeps it.
      if (record.deliveries.every((d) => isFinal(d.status))) this.records.delete(approvalId);
      else this.records.set(approvalId, record);
      void this.poke();
      return;
    }
    if (checkpoint !== undefined && this.options.store.comparePositions(e.position, checkpoint) <= 0) return;
    // Without a channel nothing can be sent: no run is read back for it, and the checkpoint moves
    // on, so channels added later announce only gates opened after they were (not this one).
    if (Object.keys(this.options.config.channels).length === 0) {
      this.saveBehind(e.position);
      return;
    }
    // A plan that fails throws to the follower, which reports it stalled and tries the same event again.
    await planFor({ store: this.options.store, config: this.options.config, people: this.options.people, actor: this.actor }, e);
    this.saveBehind(e.position);
  }

  /**
   * Saves the checkpoint behind the follower, at most once per {@link CHECKPOINT_EVERY_MS}: one
   * save at a time, the newest position passed meanwhile written next, by a timer when no event
   * comes (a file write and rename awaited per approval event was ~3.5 % of a busy server's CPU).
   * A checkpoint that lags is safe: planning is once per approval by expected revision, so events
   * read again after a crash plan nothing; without a channel a crash may leave it up to a second
   * behind. A failed save is reported and the next one writes a newer position. `close()` writes
   * the newest and waits for it.
   */
  private saveBehind(position: Position): void {
    this.unsaved = position;
    if (this.saving || this.saveTimer) return;
    const wait = this.lastSave + CHECKPOINT_EVERY_MS - this.clock.now().getTime();
    if (wait > 0) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = undefined;
        this.writeCheckpoint();
      }, wait);
      this.saveTimer.unref();
      return;
    }
    this.writeCheckpoint();
  }

  private writeCheckpoint(): void {
    if (this.saving || this.unsaved === undefined) return;
    const write = async () => {
      for (let next = this.unsaved; next !== undefined; next = this.unsaved) {
        this.unsaved = undefined;
        this.lastSave = this.clock.now().getTime();
        try {
          await this.options.checkpoint.save(next);
        } catch (error) {
          this.report(error);
        }
        if (this.unsaved !== undefined && !this.stop.signal.aborted) {
          // Newer positions came during the save: the timer writes them, not this loop at once.
          this.saving = undefined;
          this.saveBehind(this.unsaved);
          return;
        }
      }
      // In the same turn as the loop's last check, so a position set after it starts a new writer.
      this.saving = undefined;
    };
    this.saving = write();
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.stop.signal.aborted) return;
    let next: number | undefined;
    for (const r of this.records.values()) {
      const due = nextDueAt(r);
      if (due !== undefined) next = Math.min(next ?? Infinity, due);
    }
    if (next === undefined) return;
    // Capped, so a clock that jumps (or a long wait) is looked at again within a minute.
    const delay = Math.min(60_000, Math.max(0, next - this.clock.now().getTime()));
    this.timer = setTimeout(() => void this.poke(), delay);
    this.timer.unref();
  }

  private track(p: Promise<void>): void {
    this.sends.add(p);
    void p.finally(() => this.sends.delete(p));
  }

  private sender() {
    const o = this.options;
    return { store: o.store, clock: this.clock, config: o.config, channels: o.channels, publicUrl: o.publicUrl, actor: this.actor, report: (e: unknown) => this.report(e) };
  }

  private report(error: unknown): void {
    if (this.stop.signal.aborted && error instanceof StoreClosedError) return;
    this.options.onError?.(error);
  }
}
