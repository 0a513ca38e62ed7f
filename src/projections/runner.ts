import { type EventStore, type Position, type RecordedEvent, StoreClosedError, type Subscription } from '../domain/ports/event-store.js';
import { IllegalStateError } from '../domain/errors.js';
import { backoffMs, type FollowerHealth } from '../following/health.js';
import { DEFAULT_CACHE_SIZE, type ReadModelState } from './documents.js';
import { asProjected, type Projection, ProjectionError } from './projection.js';
import type { ReadModelStore, SweptDocuments } from './read-model-store.js';
import { describeHandle, type Handle, type HandleStatus, HandleStorage } from './runner/handles.js';
import { DEFAULT_MAX_BATCH, type ProjectionRunnerOptions } from './runner/options.js';
import { LagMeter, type ProjectionLag } from './runner/lag.js';
import { allReached, firstFailure, furthestApplied, oldestApplied } from './runner/cursors.js';
import { type AwayRebuild, type AwayResult, startAway } from './runner/away.js';
import { type RebuildProgress, RebuildRun, rebuildFilter } from './runner/rebuild-progress.js';
import { CATCH_UP_PAGE, type RebuildWorker } from './runner/replay.js';
import { RetentionSweep } from './runner/retention.js';
import { Waiters } from './runner/waiters.js';

export type { ProjectionStatus } from './runner/handles.js';
export type { ProjectionLag } from './runner/lag.js';
export type { ProjectionRunnerOptions } from './runner/options.js';
export type { RebuildProgress } from './runner/rebuild-progress.js';

/** The name the runner reports its health under. */
export const PROJECTIONS_FOLLOWER = 'projections';

const IDLE = Symbol('idle');

/**
 * Follows `$all` from each projection's checkpoint with one subscription (from the oldest
 * checkpoint; each projection skips what it has applied), applies events in order, and saves the
 * changed documents of every projection with the cursors they cover in one transaction: whenever it
 * has caught up with the log, and at least every `maxBatch` events.
 */
export class ProjectionRunner {
  private readonly store: EventStore;
  private readonly readModels: ReadModelStore;
  private readonly handles = new Map<string, Handle>();
  private readonly maxBatch: number;
  private readonly lagMeter: LagMeter;
  private readonly saveIntervalMs: number;
  private lastSave = 0;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly onError: (error: ProjectionError) => void;
  private readonly now: () => number;
  /** Callers of `waitFor`, in cursor order: waking them looks only at those the log has reached. */
  private readonly waiters: Waiters;
  private running: Handle[] = [];
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private rebuilding: RebuildRun | undefined;
  private rebuildUnderWay = false;
  private readonly health: FollowerHealth | undefined;
  private readonly onFollowError: (error: unknown) => void;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private started = false;
  private readonly storage: HandleStorage;
  private readonly retention: RetentionSweep;
  private readonly rebuildWorker: RebuildWorker | undefined;
  private readonly compare = (a: Position, b: Position) => this.store.comparePositions(a, b);
  private readonly cacheSize: number;
  private away: AwayRebuild | undefined;
  /** Counts stop() calls: a rebuild that sees it move while setting up goes no further. */
  private stops = 0;

  constructor(options: ProjectionRunnerOptions) {
    this.store = options.store;
    this.readModels = options.readModels;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.saveIntervalMs = options.saveIntervalMs ?? 50;
    this.onError = options.onError ?? (() => {});
    this.now = options.now ?? Date.now;
    this.lagMeter = new LagMeter(this.store, options.lagCountLimit ?? 100_000, this.now, options.lagCacheMs ?? 30_000);
    this.health = options.health;
    this.onFollowError = options.onFollowError ?? (() => {});
    this.rebuildWorker = options.rebuildWorker;
    this.cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    this.storage = new HandleStorage(this.readModels, this.compare, this.cacheSize, () => this.save());
    this.waiters = new Waiters(this.compare, (cursor, names) => this.reached(cursor, names));
    this.retention = new RetentionSweep(options.retention, {
      readModels: this.readModels,
      states: () => [...this.handles.values()].map((h) => ({ name: h.projection.name, state: h.fold.state })),
      save: () => this.save(),
      now: this.now,
      onError: (error) => this.onFollowError(error),
    });
    for (const projection of options.projections) {
      if (this.handles.has(projection.name)) throw new Error(`two projections named ${projection.name}`);
      this.handles.set(projection.name, this.storage.create(projection));
    }
  }

  /**
   * Loads every projection from the read-model store (one whose stored version differs from its
   * code is dropped and rebuilt from the start), then follows the log. Returns once following.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const handle of this.handles.values()) this.storage.load(handle);
    this.startLoop();
    this.retention.schedule();
  }

  /** Stops following and saves what was applied. */
  async stop(): Promise<void> {
    this.started = false;
    this.stops++;
    this.retention.cancel();
    await this.away?.stop();
    await this.stopLoop();
    for (const h of this.handles.values()) if (h.status === 'running') h.status = 'stopped';
  }

  /** The state of a projection, for its query functions. */
  read<S extends ReadModelState>(projection: Projection<S>): S {
    return this.handle(projection.name).fold.state as S;
  }

  /** The cursor a projection has applied (undefined: nothing yet). */
  position(name: string): Position | undefined {
    return this.handle(name).fold.applied;
  }

  /** Each projection's version, status, applied cursor and the error that stopped it. */
  status(): HandleStatus[] {
    return [...this.handles.values()].map(describeHandle);
  }

  /**
   * Resolves once the named projections (default: all) have applied `cursor`, e.g. the position an
   * append returned: read-your-writes. Rejects on timeout, or if one of them is stopped by an error.
   */
  waitFor(cursor: Position, timeoutMs = 5_000, names: readonly string[] = [...this.handles.keys()]): Promise<void> {
    for (const name of names) this.handle(name);
    const failed = firstFailure(names.map((n) => this.handle(n)));
    if (failed) return Promise.reject(failed);
    if (this.reached(cursor, names)) return Promise.resolve();
    return this.waiters.wait(cursor, names, timeoutMs);
  }

  /** How far each projection is behind the head of `$all`, in events and seconds (a count is reused for `lagCacheMs`). */
  async lag(): Promise<ProjectionLag[]> {
    return this.lagMeter.measure(() => this.status());
  }

  /**
   * Replays the log from the start into the named projection (default: all), replacing its stored
   * documents; the others keep following. Resolves when the rebuilt ones reached the head as it
   * was when the rebuild began. A projection stopped by an error starts over too.
   */
  async rebuild(name?: string, onProgress?: (progress: RebuildProgress) => void): Promise<void> {
    if (this.rebuildUnderWay) throw new IllegalStateError('a rebuild is already under way in this runner');
    this.rebuildUnderWay = true; // set before the first await: a second call in the same turn is refused too
    return this.rebuildOnce(name, onProgress).finally(() => { this.rebuildUnderWay = false; });
  }

  private async rebuildOnce(name: string | undefined, onProgress: ((progress: RebuildProgress) => void) | undefined): Promise<void> {
    const names = name === undefined ? [...this.handles.keys()] : [this.handle(name).projection.name];
    const stops = this.stops;
    await this.stopLoop();
    this.assertNotStopped(stops);
    for (const h of this.handles.values()) this.storage.declare(h);
    this.readModels.reset(names.map((n) => ({ name: n, version: this.handle(n).projection.version })));
    for (const n of names) this.storage.restart(this.handle(n));
    const head = await this.store.headPosition();
    // A stop during these awaits: no thread, no loop. Reset tables carry no cursor, so the next start replays them.
    this.assertNotStopped(stops);
    // Some may replay in a second thread (its own connections, the same folds) beside this one.
    const thread = head === undefined ? undefined : startAway(this.rebuildWorker, names.map((n) => this.handle(n)), { head, maxBatch: this.maxBatch, cacheSize: this.cacheSize });
    this.away = thread;
    this.rebuilding = new RebuildRun(names.filter((n) => !this.handle(n).away), head, onProgress);
    this.started = true;
    const rejoined = thread?.result.then((result) => this.rejoin(thread, result));
    this.startLoop();
    try {
      if (head !== undefined) await Promise.all([this.waitFor(head, 2_147_483_647, names), rejoined]);
    } finally {
      await rejoined;
      this.finishRebuild();
    }
  }

  private assertNotStopped(stops: number): void {
    if (this.stops !== stops) throw new IllegalStateError('the runner was stopped while the rebuild was setting up');
  }

  /** A rebuild thread ended: its projections rejoin the loop from their commits (failed as here if an evolve threw). */
  private async rejoin(thread: AwayRebuild, result: AwayResult): Promise<void> {
    this.away = undefined;
    for (const h of thread.handles) h.away = false;
    if (!this.started) return; // stopped: the next start resumes from the checkpoints
    await this.stopLoop();
    for (const h of thread.handles) this.storage.load(h);
    if (result.kind === 'broken') this.onFollowError(result.error);
    else this.rebuilding?.add(result.events);
    if (result.kind === 'failed') this.fail(this.handle(result.failure.projection), result.failure.event, result.failure.cause);
    this.startLoop();
    this.wakeWaiters();
  }

  private finishRebuild(): void {
    const run = this.rebuilding;
    if (!run) return;
    this.rebuilding = undefined;
    this.save();
    this.readModels.buildIndexes();
    for (const h of this.handles.values()) this.storage.settle(h);
    this.retention.sweepSafely(); // a rebuild replays dropped runs too: retention applies again
    run.finished(this.rebuildPosition(run));
  }

  /** Where a rebuild is: the cursor of the first projection it rebuilds. */
  private rebuildPosition(run: RebuildRun): Position | undefined {
    const first = run.names[0];
    return first === undefined ? undefined : this.handle(first).fold.applied;
  }

  private startLoop(): void {
    for (const h of this.handles.values()) if (h.status === 'stopped') h.status = 'running';
    this.running = [...this.handles.values()].filter((h) => h.status === 'running' && !h.away);
    if (this.running.length === 0) return;
    this.stopping = false;
    this.loop = this.follow(oldestApplied(this.compare, this.running)).catch((error: unknown) => {
      if (this.stopping) return;
      // The log or the read-model store failed (not a projection): stalled until it follows again
      // from the applied cursors, after a capped backoff. Waiters keep waiting (their timeouts bound them).
      this.health?.stalled(PROJECTIONS_FOLLOWER, error);
      this.onFollowError(error);
      if (error instanceof StoreClosedError) return; // closed by its owner: nothing to come back to
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (!this.stopping && this.started) this.startLoop();
      }, backoffMs(this.failures++));
      this.retry.unref(); // a retry alone does not keep a process alive
    });
  }

  private async stopLoop(): Promise<void> {
    this.stopping = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription) await subscription.close();
    await this.loop;
    this.loop = undefined;
  }

  /**
   * Catches up with `readAll` pages (parsed by the store like any read; one await per page, not
   * per event), then follows live with a subscription from the last event applied.
   */
  private async follow(from: Position | undefined): Promise<void> {
    let after = from;
    let pending = 0;
    // A rebuild first catches up only the projections it rebuilds, reading only their event types
    // (the store filters them); the others wait at their cursors, nothing of theirs read, evolved
    // or written, and join once the rebuilt ones have caught up.
    const everyone = this.running;
    const rebuilding = this.rebuilding;
    let filter = rebuilding && rebuildFilter(rebuilding.names.map((n) => this.handle(n).projection.eventTypes));
    if (rebuilding) {
      const names = rebuilding.names;
      this.running = everyone.filter((h) => names.includes(h.projection.name));
      after = oldestApplied(this.compare, this.running);
    }
    try {
      for (;;) {
        // Let appends, queries and timers run between pages (and `start` return before the first).
        await new Promise((resolve) => setImmediate(resolve));
        if (this.stopping) return;
        // Read before the page: every event of the filtered types up to it will have been read.
        const top = filter && (await this.store.headPosition());
        const page = await this.store.readAll({ ...(after === undefined ? {} : { after }), maxCount: CATCH_UP_PAGE, ...(filter && { filter }) });
        if (this.stopping) return;
        for (let i = 0; i < page.length; i++) this.dispatch(asProjected(page[i] as RecordedEvent));
        const last = page[page.length - 1];
        if (last) after = last.position;
        if (filter && page.length < CATCH_UP_PAGE) {
          // The rebuilt ones have applied every event of their types up to `top`: so, `top` itself.
          for (const h of this.running) {
            if (top !== undefined && (h.fold.applied === undefined || this.store.comparePositions(h.fold.applied, top) < 0)) h.fold.applied = top;
          }
          filter = undefined;
          this.running = everyone;
          after = oldestApplied(this.compare, everyone);
          if (this.waiters.size > 0) this.wakeWaiters();
          continue;
        }
        if (this.waiters.size > 0) this.wakeWaiters();
        if (page.length < CATCH_UP_PAGE) break;
        // A rebuild saves in batches too, so its saved documents can leave the caches.
        pending += page.length;
        if (pending >= this.maxBatch) {
          this.save();
          pending = 0;
        }
      }
      if (this.stopping) return;
      if (!this.rebuilding) {
        this.save();
        this.readModels.buildIndexes(); // a projection started over at load refilled its tables
        for (const h of this.handles.values()) this.storage.settle(h);
        this.retention.sweepSafely();
      }
      const subscription = this.store.subscribeToAll(after === undefined ? {} : { after });
      this.subscription = subscription;
      if (this.stopping) {
        this.subscription = undefined;
        await subscription.close();
        return;
      }
      // Caught up by reads (which also proves the store answers): live again.
      this.health?.live(PROJECTIONS_FOLLOWER);
      this.failures = 0;
      await this.followLive(subscription);
      if (!this.stopping) throw new Error('the subscription to $all ended');
    } finally {
      this.save();
    }
  }

  private async followLive(subscription: Subscription): Promise<void> {
    let idle = nextIdle();
    let pending = 0;
    for (;;) {
      const next = subscription.next();
      let result = await Promise.race([next, idle]);
      if (result === IDLE) {
        // The event loop got to other work, so nothing was ready: save what is applied.
        if (pending > 0) this.saveSoon();
        pending = 0;
        idle = nextIdle();
        result = await next;
      }
      if (result.done) break;
      this.dispatch(asProjected(result.value));
      if (this.waiters.size > 0) this.wakeWaiters();
      if (++pending >= this.maxBatch) {
        this.save();
        pending = 0;
      }
    }
  }

  private dispatch(event: ReturnType<typeof asProjected>): void {
    for (const h of this.running) {
      if (h.status !== 'running') continue;
      try {
        h.fold.apply(event);
      } catch (error) {
        this.fail(h, event, error);
      }
    }
    const run = this.rebuilding;
    if (run) run.counted(() => this.rebuildPosition(run));
  }

  private fail(handle: Handle, event: ProjectionError['event'], cause: unknown): void {
    const error = new ProjectionError(handle.projection.name, event, cause);
    // The failed evolve may have changed documents half-way: keep only what was saved.
    this.storage.load(handle);
    handle.status = 'failed';
    handle.error = error;
    this.waiters.rejectNaming(handle.projection.name, error);
    this.onError(error);
  }

  /**
   * Retention: saves, then drops from the store the runs over for good that ended before the
   * cutoff (`now` minus `finishedRunsDays`) with their per-run documents, in one transaction, and
   * forgets them from the caches. Wall clock here, outside the folds. Nothing without retention.
   */
  sweep(): SweptDocuments {
    return this.retention.sweep();
  }

  /** Saves now, or once `saveIntervalMs` has passed since the last save. */
  private saveSoon(): void {
    const wait = this.lastSave + this.saveIntervalMs - performance.now();
    if (wait <= 0) return this.save();
    this.saveTimer ??= setTimeout(() => this.save(), wait);
  }

  /** Writes every running projection's changed documents and cursor in one transaction. */
  private save(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.lastSave = performance.now();
    this.storage.commit(this.running);
  }

  /** Wakes the waiters up to the furthest cursor a running projection has applied. */
  private wakeWaiters(): void {
    this.waiters.wake(furthestApplied(this.running, this.compare));
  }

  private reached(cursor: Position, names: readonly string[]): boolean {
    return allReached(names.map((n) => this.handle(n)), cursor, this.compare);
  }

  private handle(name: string): Handle {
    const h = this.handles.get(name);
    if (!h) throw new Error(`no projection named ${name}`);
    return h;
  }
}

function nextIdle(): Promise<typeof IDLE> {
  return new Promise((resolve) => setImmediate(() => resolve(IDLE)));
}
