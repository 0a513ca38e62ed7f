import { type EventStore, type Position, type RecordedEvent, StoreClosedError, type Subscription } from '../domain/ports/event-store.js';
import type { RunIndexStore } from '../domain/ports/run-index.js';
import { backoffMs, type FollowerHealth, pause } from '../following/health.js';

const START_TYPES = new Set(['RunStarted', 'RunResumed']);
const END_TYPES = new Set(['RunCompleted', 'RunFailed', 'RunCancelled']);
const RUN_PREFIX = 'run-';
/** The name this follower reports its health under. */
export const RUN_FOLLOWER = 'run-follower';

/** What the follower needs from the engine. */
export interface FollowedEngine {
  /** Look at a run again; `seenRevision` is the newest revision of it in the log. */
  kick(runId: string, seenRevision?: number): void;
  /** The revision this engine already knows of a run (its own appends included), if any. */
  knownRevision(runId: string): number | undefined;
  /** The last revision of a run it finished and let go of, if it still remembers (no need to read it back). */
  finishedRevision?(runId: string): number | undefined;
  /** Re-read a run that is idle in this engine and decide again what is due (reconciliation). */
  reconcile(runId: string): void;
}

/** A read model fed by the follower: seeded from the streams of the unfinished runs at start, then every followed event. */
export interface FollowerFeed {
  /** Applies one run-stream event (possibly one it already had: it must ignore repeats). */
  apply(event: RecordedEvent): void;
}

/**
 * Keeps the index of unfinished runs and wakes the engine for them: at start it brings the
 * persisted index up to the head of `$all` (reading only what came after its cursor), hands every
 * unfinished run to the engine (recovery), then follows `$all` live and wakes the engine for
 * changes made by anyone else (another engine, an API-only process).
 */
export class RunFollower {
  /** Unfinished runs → the newest revision of each seen in the log. */
  private readonly active = new Map<string, number>();
  /** Runs changed since the engine was last seen holding their newest revision: what a sweep looks at. */
  private readonly unconfirmed = new Set<string>();
  /** What changed in the index since it was last saved (it is written as a change, not a snapshot). */
  private readonly started = new Set<string>();
  private readonly ended = new Set<string>();
  /** Open approval gates: approval id → requester, votes needed and received, run. */
  private cursor: Position | undefined;
  private dirty = false;
  private subscription: Subscription | undefined;
  private saver: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private following: Promise<void> | undefined;
  private closing = false;
  private readonly stop = new AbortController();
  private readonly waiters = new Set<{ target: Position; resolve: () => void }>();

  constructor(
    private readonly store: EventStore,
    private readonly index: RunIndexStore,
    private readonly engine: FollowedEngine,
    private readonly onError: (error: unknown) => void,
    private readonly saveEveryMs = 1_000,
    private readonly sweepEveryMs = 5_000,
    private readonly health?: FollowerHealth,
    private readonly feed?: FollowerFeed,
  ) {}

  /** Catches the index up, recovers every unfinished run, then follows. Resolves once recovery is under way. */
  async start(): Promise<string[]> {
    const saved = await this.index.load();
    for (const id of saved.active) {
      this.active.set(id, -1);
      this.unconfirmed.add(id);
    }
    this.cursor = saved.cursor;
    await this.catchUp((event) => this.track(event));
    await this.save();
    const recovered = [...this.active.keys()];
    // The index catches up from its saved cursor only: what is still open in an unfinished run may
    // lie before it, so the feed reads those runs whole (finished runs hold nothing open).
    if (this.feed) for (const runId of recovered) for (const event of await this.store.readStream(`${RUN_PREFIX}${runId}`)) this.feed.apply(event);
    for (const runId of recovered) this.engine.kick(runId);
    this.following = this.followForever();
    // Not unref'd: a started engine is a service, and this keeps its process alive until close().
    this.saver = setInterval(() => void this.save().catch(this.onError), this.saveEveryMs);
    // Anti-entropy: a run the engine does not hold at its newest revision is re-read and re-decided
    // now and then, so a wake-up that was missed (a kick that failed, a foreign append whose kick
    // was lost) heals by itself. It appends nothing unless something is due.
    if (this.sweepEveryMs > 0) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepEveryMs);
      this.sweeper.unref();
    }
    return recovered;
  }

  /**
   * One anti-entropy pass (the timer's; public so its cost can be measured). It looks only at runs
   * changed since they were last confirmed, and reads only those the engine holds behind the log:
   * idle runs cost nothing, however many are open.
   */
  sweep(): void {
    for (const runId of this.unconfirmed) {
      const seen = this.active.get(runId);
      const known = this.engine.knownRevision(runId);
      if (seen === undefined || (known !== undefined && known >= seen)) this.unconfirmed.delete(runId);
      else this.engine.reconcile(runId);
    }
  }

  /** Resolves once the follower has applied the log up to `position` (read-your-writes). */
  waitFor(position: Position | undefined, timeoutMs = 5_000): Promise<void> {
    if (position === undefined || (this.cursor !== undefined && this.store.comparePositions(this.cursor, position) >= 0)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = { target: position, resolve: () => { clearTimeout(timer); resolve(); } };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`the run index did not reach ${position} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** The runs the index holds as unfinished. */
  activeRuns(): string[] {
    return [...this.active.keys()];
  }

  async close(): Promise<void> {
    this.closing = true;
    this.stop.abort();
    if (this.saver) clearInterval(this.saver);
    if (this.sweeper) clearInterval(this.sweeper);
    await this.subscription?.close();
    await this.following;
    await this.save();
  }

  /** Reads `$all` after the cursor up to its head, page by page. */
  private async catchUp(apply: (event: RecordedEvent) => void): Promise<void> {
    for (;;) {
      const page = await this.store.readAll({ after: this.cursor, maxCount: 1_000, filter: { streamPrefix: [RUN_PREFIX] } });
      for (const event of page) apply(event);
      if (page.length < 1_000) break;
    }
  }

  /**
   * Follows live; when the subscription fails (the store restarted, the network dropped), reports
   * it, waits a capped backoff, catches up from the cursor with reads and subscribes again.
   * Stalled from the failure until it has caught up.
   */
  private async followForever(): Promise<void> {
    for (let attempt = 0; !this.closing; ) {
      try {
        if (attempt > 0) await this.catchUp((event) => this.apply(event));
        const subscription = this.store.subscribeToAll({ after: this.cursor ?? undefined, filter: { streamPrefix: [RUN_PREFIX] } });
        this.subscription = subscription;
        if (this.closing) {
          await subscription.close();
          break;
        }
        this.health?.live(RUN_FOLLOWER);
        attempt = 0;
        for await (const event of subscription) this.apply(event);
        if (this.closing) break;
        throw new Error('the subscription to $all ended');
      } catch (error) {
        if (this.closing) break;
        this.onError(error);
        this.health?.stalled(RUN_FOLLOWER, error);
        if (error instanceof StoreClosedError) break; // closed by its owner: nothing to come back to
        await pause(backoffMs(attempt++), this.stop.signal);
      }
    }
  }

  /** One event followed: the index, the read-your-writes waiters, and a wake-up for the engine. */
  private apply(event: RecordedEvent): void {
    const runId = this.track(event);
    this.feed?.apply(event);
    for (const w of this.waiters) {
      if (this.store.comparePositions(event.position, w.target) >= 0) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
    if (!runId) return;
    const known = this.engine.knownRevision(runId) ?? this.engine.finishedRevision?.(runId);
    // A terminal event written elsewhere must stop the calls this engine runs for that run;
    // for a run this engine does not hold there is nothing to stop, so it is not read.
    if (END_TYPES.has(event.type) && known === undefined) return;
    if (known === undefined || known < event.revision) this.engine.kick(runId, event.revision);
  }

  /** Updates the index with one event; returns its run id. */
  private track(event: RecordedEvent): string | undefined {
    this.cursor = event.position;
    this.dirty = true;
    const runId = event.streamId.slice(RUN_PREFIX.length);
    if (START_TYPES.has(event.type)) {
      this.started.add(runId);
      this.ended.delete(runId);
      this.active.set(runId, event.revision);
      this.unconfirmed.add(runId);
    } else if (END_TYPES.has(event.type)) {
      // Started and ended between two saves: the index never needs to hear of it.
      if (!this.started.delete(runId)) this.ended.add(runId);
      this.active.delete(runId);
      this.unconfirmed.delete(runId);
    } else if (this.active.has(runId)) {
      this.active.set(runId, event.revision);
      this.unconfirmed.add(runId);
    }
    return runId;
  }

  private async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const change = { cursor: this.cursor, started: [...this.started], ended: [...this.ended] };
    this.started.clear();
    this.ended.clear();
    await this.index.save(change);
  }
}
