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
}

/**
 * Keeps the index of unfinished runs and wakes the engine for them: at start it brings the
 * persisted index up to the head of `$all` (reading only what came after its cursor), hands every
 * unfinished run to the engine (recovery), then follows `$all` live and wakes the engine for
 * changes made by anyone else (another engine, an API-only process).
 */
export class RunFollower {
  private readonly active = new Set<string>();
  private cursor: Position | undefined;
  private dirty = false;
  private subscription: Subscription | undefined;
  private saver: NodeJS.Timeout | undefined;
  private following: Promise<void> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly index: RunIndexStore,
    private readonly engine: FollowedEngine,
    private readonly onError: (error: unknown) => void,
    private readonly saveEveryMs = 1_000,
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
    return recovered;
  }

  /** The runs the index holds as unfinished. */
  activeRuns(): string[] {
    return [...this.active];
  }

  async close(): Promise<void> {
    if (this.saver) clearInterval(this.saver);
    await this.subscription?.close();
    await this.following;
    await this.save();
  }

  private async follow(subscription: Subscription): Promise<void> {
    try {
      for await (const event of subscription) {
        const runId = this.track(event);
        if (!runId || END_TYPES.has(event.type)) continue;
        const known = this.engine.knownRevision(runId);
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
    else if (END_TYPES.has(event.type)) this.active.delete(runId);
    return runId;
  }

  private async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.index.save({ cursor: this.cursor, active: [...this.active] });
  }
}
