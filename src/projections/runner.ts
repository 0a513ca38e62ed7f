import { type AllFilter, type EventStore, type Position, type RecordedEvent, StoreClosedError, type Subscription } from '../domain/ports/event-store.js';
import { backoffMs, type FollowerHealth } from '../following/health.js';
import { type Collection, DEFAULT_CACHE_SIZE, type ReadModelState, takeStateChanges } from './documents.js';
import { asProjected, type Projection, ProjectionError, ProjectionFold } from './projection.js';
import type { ProjectionCommit, ReadModelStore, SweptDocuments } from './read-model-store.js';

/** Where a projection is: following the log, stopped by an event it could not apply, or not started. */
export type ProjectionStatus = 'running' | 'failed' | 'stopped';

export interface ProjectionLag {
  readonly name: string;
  readonly status: ProjectionStatus;
  readonly applied: Position | undefined;
  /** Events in `$all` after the applied cursor (counted up to `lagCountLimit`). */
  readonly eventsBehind: number;
  /** Age of the oldest event not yet applied; 0 when caught up. */
  readonly secondsBehind: number;
}

/** Reported while a rebuild replays the log. */
export interface RebuildProgress {
  readonly projections: readonly string[];
  readonly events: number;
  readonly position: Position | undefined;
  readonly head: Position | undefined;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  readonly done: boolean;
}

export interface ProjectionRunnerOptions {
  readonly store: EventStore;
  readonly readModels: ReadModelStore;
  // biome-ignore lint: projections of different state types live side by side
  readonly projections: ReadonlyArray<Projection<any>>;
  /** Most events applied between two saves; the runner also saves whenever it has caught up. Default 50,000. */
  readonly maxBatch?: number;
  /**
   * Least time between two saves while following live (the in-memory models, which queries and
   * `waitFor` use, are current at once; the stored ones follow within this). Default 50 ms.
   */
  readonly saveIntervalMs?: number;
  /** Most events counted by `lag()`. Default 100,000. */
  readonly lagCountLimit?: number;
  /** A projection stopped on an event: reported here as well as by `status()` and `waitFor`. */
  readonly onError?: (error: ProjectionError) => void;
  /** The wall clock, for `secondsBehind` only. */
  readonly now?: () => number;
  /** Where the runner says whether it follows the log live or is stalled (for /healthz). */
  readonly health?: FollowerHealth;
  /** The log or the read-model store failed: reported here, then the runner follows again after a backoff. */
  readonly onFollowError?: (error: unknown) => void;
  /**
   * Most clean decoded documents each paged-out collection keeps in memory (unsaved ones are kept
   * until the next save, at most `maxBatch` events' worth). Default 2,000.
   */
  readonly cacheSize?: number;
  /**
   * Retention: runs over for good that ended more than this many days ago (by `now`) are dropped
   * from the read models, with every per-run document (the log keeps them). A sweep runs after
   * catch-up, after a rebuild, and every `sweepIntervalMs` (default 1 hour). Default: keep all.
   */
  readonly retention?: { readonly finishedRunsDays: number; readonly sweepIntervalMs?: number };
}

/** The name the runner reports its health under. */
export const PROJECTIONS_FOLLOWER = 'projections';

interface Handle {
  readonly projection: Projection<ReadModelState>;
  fold: ProjectionFold<ReadModelState>;
  status: ProjectionStatus;
  declared: boolean;
  error?: ProjectionError;
  saved: Position | undefined;
}

interface Waiter {
  readonly cursor: Position;
  readonly names: readonly string[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface RebuildRun {
  readonly names: readonly string[];
  readonly onProgress?: (progress: RebuildProgress) => void;
  readonly head: Position | undefined;
  readonly started: number;
  events: number;
}

const IDLE = Symbol('idle');
const PROGRESS_EVERY = 50_000;
/**
 * Events per `readAll` while catching up. Small pages keep few events alive at a time: larger ones
 * were slower (more of each page survives a young-generation GC).
 */
const CATCH_UP_PAGE = 512;

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
  private readonly lagCountLimit: number;
  private readonly saveIntervalMs: number;
  private lastSave = 0;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly onError: (error: ProjectionError) => void;
  private readonly now: () => number;
  /** Callers of `waitFor`, in cursor order: waking them looks only at those the log has reached. */
  private readonly waiters: Waiter[] = [];
  private running: Handle[] = [];
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private rebuilding: RebuildRun | undefined;
  private readonly health: FollowerHealth | undefined;
  private readonly onFollowError: (error: unknown) => void;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private started = false;
  private readonly cacheSize: number;
  private readonly retention: ProjectionRunnerOptions['retention'];
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: ProjectionRunnerOptions) {
    this.store = options.store;
    this.readModels = options.readModels;
    this.maxBatch = options.maxBatch ?? 50_000;
    this.lagCountLimit = options.lagCountLimit ?? 100_000;
    this.saveIntervalMs = options.saveIntervalMs ?? 50;
    this.onError = options.onError ?? (() => {});
    this.now = options.now ?? Date.now;
    this.health = options.health;
    this.onFollowError = options.onFollowError ?? (() => {});
    this.cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    this.retention = options.retention;
    for (const projection of options.projections) {
      if (this.handles.has(projection.name)) throw new Error(`two projections named ${projection.name}`);
      this.handles.set(projection.name, {
        projection,
        fold: new ProjectionFold(projection, (a, b) => this.store.comparePositions(a, b)),
        status: 'stopped',
        saved: undefined,
        declared: false,
      });
    }
  }

  /**
   * Loads every projection from the read-model store (one whose stored version differs from its
   * code is dropped and rebuilt from the start), then follows the log. Returns once following.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const handle of this.handles.values()) this.load(handle);
    this.startLoop();
    if (this.retention && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.sweepSafely(), this.retention.sweepIntervalMs ?? 3_600_000);
      this.sweepTimer.unref();
    }
  }

  /** Stops following and saves what was applied. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
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

  status(): Array<{ name: string; version: number; status: ProjectionStatus; applied: Position | undefined; error?: ProjectionError }> {
    return [...this.handles.values()].map((h) => ({
      name: h.projection.name,
      version: h.projection.version,
      status: h.status,
      applied: h.fold.applied,
      error: h.error,
    }));
  }

  /**
   * Resolves once the named projections (default: all) have applied `cursor`, e.g. the position an
   * append returned: read-your-writes. Rejects on timeout, or if one of them is stopped by an error.
   */
  waitFor(cursor: Position, timeoutMs = 5_000, names: readonly string[] = [...this.handles.keys()]): Promise<void> {
    for (const name of names) this.handle(name);
    const failed = this.failedAmong(names);
    if (failed) return Promise.reject(failed);
    if (this.reached(cursor, names)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        cursor,
        names,
        resolve: () => {
          clearTimeout(waiter.timer);
          this.removeWaiter(waiter);
          resolve();
        },
        reject: (error) => {
          clearTimeout(waiter.timer);
          this.removeWaiter(waiter);
          reject(error);
        },
        timer: setTimeout(
          () => waiter.reject(new Error(`projections ${names.join(', ')} did not reach ${cursor} within ${timeoutMs} ms`)),
          timeoutMs,
        ),
      };
      this.addWaiter(waiter);
    });
  }

  /** How far each projection is behind the head of `$all`, in events and seconds. */
  async lag(): Promise<ProjectionLag[]> {
    const head = await this.store.headPosition();
    const cache = new Map<string, { events: number; seconds: number }>();
    const out: ProjectionLag[] = [];
    for (const h of this.handles.values()) {
      const applied = h.fold.applied;
      let behind = { events: 0, seconds: 0 };
      if (head !== undefined && (applied === undefined || this.store.comparePositions(applied, head) < 0)) {
        const key = applied ?? '';
        behind = cache.get(key) ?? (await this.countAfter(applied));
        cache.set(key, behind);
      }
      out.push({ name: h.projection.name, status: h.status, applied, eventsBehind: behind.events, secondsBehind: behind.seconds });
    }
    return out;
  }

  /**
   * Replays the log from the start into the named projection (default: all), replacing its stored
   * documents; the others keep following. Resolves when the rebuilt ones reached the head as it
   * was when the rebuild began. A projection stopped by an error starts over too.
   */
  async rebuild(name?: string, onProgress?: (progress: RebuildProgress) => void): Promise<void> {
    const names = name === undefined ? [...this.handles.keys()] : [this.handle(name).projection.name];
    await this.stopLoop();
    for (const h of this.handles.values()) this.declare(h);
    this.readModels.reset(names.map((n) => ({ name: n, version: this.handle(n).projection.version })));
    for (const n of names) {
      const h = this.handle(n);
      h.fold = this.newFold(h);
      h.saved = undefined;
      h.error = undefined;
      h.status = 'stopped';
    }
    const head = await this.store.headPosition();
    this.rebuilding = { names, onProgress, head, started: performance.now(), events: 0 };
    this.started = true;
    this.startLoop();
    try {
      if (head !== undefined) await this.waitFor(head, 2_147_483_647, names);
    } finally {
      this.finishRebuild();
    }
  }

  private finishRebuild(): void {
    const run = this.rebuilding;
    if (!run) return;
    this.rebuilding = undefined;
    this.save();
    this.sweepSafely(); // a rebuild replays dropped runs too: retention applies again
    run.onProgress?.(this.progressOf(run, true));
  }

  private progressOf(run: RebuildRun, done: boolean): RebuildProgress {
    const elapsedMs = performance.now() - run.started;
    const first = run.names[0];
    return {
      projections: run.names,
      events: run.events,
      position: first === undefined ? undefined : this.handle(first).fold.applied,
      head: run.head,
      elapsedMs,
      eventsPerSecond: elapsedMs > 0 ? Math.round((run.events / elapsedMs) * 1000) : 0,
      done,
    };
  }

  /**
   * Tells the store about the projection's collections (tables, columns, indexes). False when a
   * stored layout had to be replaced, so the projection must be rebuilt.
   */
  private declare(handle: Handle): boolean {
    if (handle.declared) return true;
    handle.declared = true;
    let kept = true;
    for (const [collection, c] of Object.entries(handle.projection.initialState())) {
      if (!this.readModels.declare({ projection: handle.projection.name, collection, spec: c.spec })) kept = false;
    }
    return kept;
  }

  /** A fold from the initial state, its paged-out collections reading the store on a miss. */
  private newFold(handle: Handle): ProjectionFold<ReadModelState> {
    const fold = new ProjectionFold(handle.projection, (a, b) => this.store.comparePositions(a, b));
    for (const [collection, c] of Object.entries(fold.state)) {
      if (c.spec.resident) continue;
      c.attach({ source: this.readModels.source(handle.projection.name, collection), flush: () => this.save(), cacheSize: this.cacheSize });
    }
    return fold;
  }

  /**
   * Loads a projection's cursor and its resident collections (the paged-out ones are read on
   * demand): start-up costs what is kept in memory, not the history.
   */
  private load(handle: Handle): void {
    const { projection } = handle;
    const layoutKept = this.declare(handle);
    const stored = this.readModels.load(projection.name);
    handle.fold = this.newFold(handle);
    handle.error = undefined;
    if (!stored || stored.version !== projection.version || !layoutKept) {
      // New, or built by other code: start over from the beginning of the log.
      this.readModels.reset([{ name: projection.name, version: projection.version }]);
      handle.saved = undefined;
    } else {
      for (const [collection, target] of Object.entries(handle.fold.state) as Array<[string, Collection<unknown>]>) {
        if (!target.spec.resident) continue;
        for (const { id, doc } of this.readModels.documents(projection.name, collection)) target.restore(id, doc);
      }
      handle.fold.applied = stored.checkpoint;
      handle.saved = stored.checkpoint;
    }
    handle.status = 'running';
  }

  private startLoop(): void {
    for (const h of this.handles.values()) if (h.status === 'stopped') h.status = 'running';
    this.running = [...this.handles.values()].filter((h) => h.status === 'running');
    if (this.running.length === 0) return;
    let from: Position | undefined;
    for (const h of this.running) {
      const applied = h.fold.applied;
      if (applied === undefined) {
        from = undefined;
        break;
      }
      if (from === undefined || this.store.comparePositions(applied, from) < 0) from = applied;
    }
    this.stopping = false;
    this.loop = this.follow(from).catch((error: unknown) => {
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
    let filter = this.rebuildFilter();
    if (filter) {
      const names = (this.rebuilding as RebuildRun).names;
      this.running = everyone.filter((h) => names.includes(h.projection.name));
      after = this.oldestApplied(this.running);
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
          after = this.oldestApplied(everyone);
          if (this.waiters.length > 0) this.wakeWaiters();
          continue;
        }
        if (this.waiters.length > 0) this.wakeWaiters();
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
        this.sweepSafely();
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

  /** The union of the event types of the projections being rebuilt, or undefined when not rebuilding. */
  private rebuildFilter(): AllFilter | undefined {
    const run = this.rebuilding;
    if (!run) return undefined;
    const types = new Set<string>();
    for (const name of run.names) for (const type of this.handle(name).projection.eventTypes) types.add(type);
    return { eventTypes: [...types] };
  }

  /** The oldest cursor these projections applied (undefined if one applied nothing yet). */
  private oldestApplied(handles: readonly Handle[]): Position | undefined {
    let from: Position | undefined;
    for (const h of handles) {
      const applied = h.fold.applied;
      if (applied === undefined) return undefined;
      if (from === undefined || this.store.comparePositions(applied, from) < 0) from = applied;
    }
    return from;
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
      if (this.waiters.length > 0) this.wakeWaiters();
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
    if (run && ++run.events % PROGRESS_EVERY === 0) run.onProgress?.(this.progressOf(run, false));
  }

  private fail(handle: Handle, event: ReturnType<typeof asProjected>, cause: unknown): void {
    const error = new ProjectionError(handle.projection.name, event, cause);
    // The failed evolve may have changed documents half-way: keep only what was saved.
    this.load(handle);
    handle.status = 'failed';
    handle.error = error;
    for (const w of [...this.waiters]) if (w.names.includes(handle.projection.name)) w.reject(error);
    this.onError(error);
  }

  /**
   * Retention: saves, then drops from the store the runs over for good that ended before the
   * cutoff (`now` minus `finishedRunsDays`) with their per-run documents, in one transaction, and
   * forgets them from the caches. Wall clock here, outside the folds. Nothing without retention.
   */
  sweep(): SweptDocuments {
    const retention = this.retention;
    if (!retention) return [];
    this.save();
    const before = new Date(this.now() - retention.finishedRunsDays * 86_400_000).toISOString();
    const perRun: Array<{ projection: string; collection: string }> = [];
    for (const h of this.handles.values()) {
      for (const [collection, c] of Object.entries(h.fold.state)) if (c.spec.perRun) perRun.push({ projection: h.projection.name, collection });
    }
    const swept = this.readModels.sweep(before, perRun);
    for (const { projection, collection, ids } of swept) this.handles.get(projection)?.fold.state[collection]?.forget(ids);
    return swept;
  }

  private sweepSafely(): void {
    try {
      this.sweep();
    } catch (error) {
      this.onFollowError(error);
    }
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
    const commits: ProjectionCommit[] = [];
    for (const h of this.running) {
      if (h.status !== 'running') continue;
      const applied = h.fold.applied;
      if (applied === undefined) continue;
      const changes = takeStateChanges(h.fold.state);
      if (changes.length === 0 && applied === h.saved) continue;
      commits.push({ name: h.projection.name, version: h.projection.version, checkpoint: applied, changes });
    }
    if (commits.length === 0) return;
    this.readModels.commit(commits);
    for (const c of commits) (this.handles.get(c.name) as Handle).saved = c.checkpoint;
  }

  /**
   * Resolves the waiters whose cursor every projection they name has applied. Waiters are in
   * cursor order, so only those at or before the furthest applied cursor are looked at: one
   * comparison per event when nobody's cursor was reached.
   */
  private wakeWaiters(): void {
    let furthest: Position | undefined;
    for (const h of this.running) {
      const applied = h.fold.applied;
      if (applied !== undefined && (furthest === undefined || this.store.comparePositions(applied, furthest) > 0)) furthest = applied;
    }
    if (furthest === undefined) return;
    const due: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.store.comparePositions(w.cursor, furthest) > 0) break;
      if (this.reached(w.cursor, w.names)) due.push(w);
    }
    for (const w of due) w.resolve();
  }

  private addWaiter(waiter: Waiter): void {
    const ws = this.waiters;
    const last = ws[ws.length - 1];
    // Usually the newest cursor: appended at the end after one comparison.
    if (last === undefined || this.store.comparePositions(last.cursor, waiter.cursor) <= 0) {
      ws.push(waiter);
      return;
    }
    let lo = 0;
    let hi = ws.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.store.comparePositions((ws[mid] as Waiter).cursor, waiter.cursor) <= 0) lo = mid + 1;
      else hi = mid;
    }
    ws.splice(lo, 0, waiter);
  }

  private removeWaiter(waiter: Waiter): void {
    const ws = this.waiters;
    // Waiters are mostly resolved oldest first: look from the front.
    const i = ws.indexOf(waiter);
    if (i >= 0) ws.splice(i, 1);
  }

  private reached(cursor: Position, names: readonly string[]): boolean {
    for (const name of names) {
      const applied = this.handle(name).fold.applied;
      if (applied === undefined || this.store.comparePositions(applied, cursor) < 0) return false;
    }
    return true;
  }

  private failedAmong(names: readonly string[]): Error | undefined {
    for (const name of names) {
      const h = this.handle(name);
      if (h.status === 'failed') return h.error;
    }
    return undefined;
  }

  private async countAfter(applied: Position | undefined): Promise<{ events: number; seconds: number }> {
    const events = await this.store.readAll({ after: applied, maxCount: this.lagCountLimit });
    const oldest = events[0];
    return { events: events.length, seconds: oldest ? Math.max(0, (this.now() - oldest.recordedAt.getTime()) / 1000) : 0 };
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
