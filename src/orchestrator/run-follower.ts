import type { EventStore, Position, RecordedEvent, Subscription } from '../domain/ports/event-store.js';
import type { RunIndexStore } from '../domain/ports/run-index.js';

const START_TYPES = new Set(['RunStarted', 'RunResumed']);
const END_TYPES = new Set(['RunCompleted', 'RunFailed', 'RunCancelled']);
const RUN_PREFIX = 'run-';

/** What the follower needs from the engine. */
export interface FollowedEngine {
  /** Look at a run again; `seenRevision` is the newest revision of it in the log. */
  kick(runId: string, seenRevision?: number): void;
  /** The revision this engine already knows of a run (its own appends included), if any. */
  knownRevision(runId: string): number | undefined;
  /** Re-read a run that is idle in this engine and decide again what is due (reconciliation). */
  reconcile(runId: string): void;
}

/**
 * Keeps the index of unfinished runs and wakes the engine for them: at start it brings the
 * persisted index up to the head of `$all` (reading only what came after its cursor), hands every
 * unfinished run to the engine (recovery), then follows `$all` live and wakes the engine for
 * changes made by anyone else (another engine, an API-only process).
 */
export class RunFollower {
  private readonly active = new Set<string>();
  /** Open approval gates: approval id → requester, votes needed and received, run. */
  private readonly openGates = new Map<string, { requester: string; required: number; votes: number; runId: string }>();
  private cursor: Position | undefined;
  private dirty = false;
  private subscription: Subscription | undefined;
  private saver: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private following: Promise<void> | undefined;
  private readonly waiters = new Set<{ target: Position; resolve: () => void }>();

  constructor(
    private readonly store: EventStore,
    private readonly index: RunIndexStore,
    private readonly engine: FollowedEngine,
    private readonly onError: (error: unknown) => void,
    private readonly saveEveryMs = 1_000,
    private readonly sweepEveryMs = 5_000,
  ) {}

  /** Catches the index up, recovers every unfinished run, then follows. Resolves once recovery is under way. */
  async start(): Promise<string[]> {
    const saved = await this.index.load();
    for (const id of saved.active) this.active.add(id);
    this.cursor = saved.cursor;
    for (;;) {
      const page = await this.store.readAll({ after: this.cursor, maxCount: 1_000, filter: { streamPrefix: [RUN_PREFIX] } });
      for (const event of page) this.track(event);
      if (page.length < 1_000) break;
    }
    await this.save();
    const recovered = [...this.active];
    for (const runId of recovered) this.engine.kick(runId);
    this.subscription = this.store.subscribeToAll({ after: this.cursor ?? undefined, filter: { streamPrefix: [RUN_PREFIX] } });
    this.following = this.follow(this.subscription);
    // Not unref'd: a started engine is a service, and this keeps its process alive until close().
    this.saver = setInterval(() => void this.save().catch(this.onError), this.saveEveryMs);
    // Anti-entropy: every unfinished run is re-read and re-decided now and then, so a wake-up that
    // was missed (a crash between a foreign append and its kick, a lost worker-slot wake) heals by
    // itself. It appends nothing unless something is due.
    if (this.sweepEveryMs > 0) {
      this.sweeper = setInterval(() => {
        for (const runId of this.active) this.engine.reconcile(runId);
      }, this.sweepEveryMs);
      this.sweeper.unref();
    }
    return recovered;
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

  /** How many approval requests of this requester are open (as far as the log has been followed). */
  pendingRequestsOf(requesterId: string): number {
    let n = 0;
    for (const g of this.openGates.values()) if (g.requester === requesterId) n++;
    return n;
  }

  /** The runs the index holds as unfinished. */
  activeRuns(): string[] {
    return [...this.active];
  }

  async close(): Promise<void> {
    if (this.saver) clearInterval(this.saver);
    if (this.sweeper) clearInterval(this.sweeper);
    await this.subscription?.close();
    await this.following;
    await this.save();
  }

  private async follow(subscription: Subscription): Promise<void> {
    try {
      for await (const event of subscription) {
        const runId = this.track(event);
        for (const w of this.waiters) {
          if (this.store.comparePositions(event.position, w.target) >= 0) {
            this.waiters.delete(w);
            w.resolve();
          }
        }
        if (!runId) continue;
        const known = this.engine.knownRevision(runId);
        // A terminal event written elsewhere must stop the calls this engine runs for that run;
        // for a run this engine does not hold there is nothing to stop, so it is not read.
        if (END_TYPES.has(event.type) && known === undefined) continue;
        if (known === undefined || known < event.revision) this.engine.kick(runId, event.revision);
      }
    } catch (error) {
      this.onError(error);
    }
  }

  /** Updates the index with one event; returns its run id. */
  private track(event: RecordedEvent): string | undefined {
    this.cursor = event.position;
    this.dirty = true;
    const runId = event.streamId.slice(RUN_PREFIX.length);
    if (START_TYPES.has(event.type)) this.active.add(runId);
    else if (END_TYPES.has(event.type)) {
      this.active.delete(runId);
      for (const [id, g] of this.openGates) if (g.runId === runId) this.openGates.delete(id);
    }
    this.trackGate(event, runId);
    return runId;
  }

  private trackGate(event: RecordedEvent, runId: string): void {
    const data = event.data as { approvalId?: string; requester?: { id: string }; requiredApprovals?: number };
    if (!data.approvalId) return;
    switch (event.type) {
      case 'ApprovalRequested':
        this.openGates.set(data.approvalId, { requester: data.requester?.id ?? '', required: data.requiredApprovals ?? 1, votes: 0, runId });
        break;
      case 'ApprovalGranted': {
        const g = this.openGates.get(data.approvalId);
        if (g && ++g.votes >= g.required) this.openGates.delete(data.approvalId);
        break;
      }
      case 'ApprovalDenied':
      case 'ApprovalExpired':
      case 'ApprovalCancelled':
      case 'ApprovalAutoApproved':
        this.openGates.delete(data.approvalId);
        break;
    }
  }

  private async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.index.save({ cursor: this.cursor, active: [...this.active] });
  }
}
