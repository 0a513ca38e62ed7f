/** One event of a run stream as the load fold reads it (run id, revision, type, data, deciding instance). */
export interface LoadEvent {
  readonly runId: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  /** The instance whose engine appended it (metadata `instance`), if recorded. */
  readonly instance?: string;
}

/** Calls in flight on one worker, as decided by one instance (undefined: an engine without an id). */
export interface WorkerInstanceLoad {
  readonly worker: string;
  readonly instance: string | undefined;
  readonly inFlight: number;
}

interface OpenCall {
  readonly worker: string;
  readonly instance: string | undefined;
}

const RUN_ENDS = new Set(['RunCompleted', 'RunFailed', 'RunCancelled']);
/** How many ended runs' last revisions are kept to recognize replayed events (a stream read at start, then live). */
const ENDED_REMEMBERED = 1_024;

/**
 * The calls in flight across every instance on one store, folded from the log: a ToolCallStarted
 * with no ToolCallSucceeded / ToolCallFailed for the same step and attempt yet, per worker and
 * deciding instance. This is what `least_loaded` must see when several instances share a store
 * (process memory only knows its own calls). Per run it remembers the last revision applied, so
 * replaying events it already has (a stream read at start, then the same events live) is harmless.
 * Only runs with calls claimed and not ended are held: a run's entry is dropped with its terminal
 * event, and events that open no call on a run not held create none.
 */
export class CallLoad {
  private readonly runs = new Map<string, { revision: number; open: Map<string, OpenCall> }>();
  /** Recently ended runs → their terminal revision (bounded): an older claim seen again opens nothing. */
  private readonly ended = new Map<string, number>();
  /** worker → instance → calls in flight: kept with every change, so routing reads it in O(instances). */
  private readonly counts = new Map<string, Map<string | undefined, number>>();

  /** Applies one event of a run stream; events at or before the run's last applied revision are ignored. */
  apply(event: LoadEvent): void {
    const run = this.runs.get(event.runId);
    if (run && event.revision <= run.revision) return;
    if (RUN_ENDS.has(event.type)) {
      if (run) for (const call of run.open.values()) this.count(call, -1);
      this.runs.delete(event.runId);
      this.rememberEnded(event.runId, event.revision);
      return;
    }
    // Only a claim opens an entry: anything else on a run not held (a call answered after its run
    // ended, a run that has claimed nothing yet) has no call to close, and keeping an entry for it
    // would hold every finished run forever.
    if (!run && (event.type !== 'ToolCallStarted' || event.revision <= (this.ended.get(event.runId) ?? -1))) return;
    const entry = run ?? { revision: -1, open: new Map<string, OpenCall>() };
    entry.revision = event.revision;
    if (!run) this.runs.set(event.runId, entry);
    const data = event.data as { stepId?: string; attempt?: number; worker?: string };
    const key = `${data.stepId}:${data.attempt}`;
    const open = entry.open.get(key);
    switch (event.type) {
      case 'ToolCallStarted': {
        if (data.worker === undefined) break;
        if (open) this.count(open, -1); // the same call claimed again (recovery): counted once
        const call = { worker: data.worker, instance: event.instance };
        entry.open.set(key, call);
        this.count(call, +1);
        break;
      }
      case 'ToolCallSucceeded':
      case 'ToolCallFailed':
        if (open) this.count(open, -1);
        entry.open.delete(key);
        break;
      default:
        break; // no other event starts or ends a call
    }
  }

  /** How many runs it holds an entry for (runs with calls claimed and not yet ended): open work only. */
  heldRuns(): number {
    return this.runs.size;
  }

  /** Calls in flight on `worker`, leaving out those decided by `exceptInstance` (the caller's own, which it counts itself). */
  inFlightOf(worker: string, exceptInstance: string | undefined): number {
    let n = 0;
    for (const [instance, count] of this.counts.get(worker) ?? []) if (instance !== exceptInstance) n += count;
    return n;
  }

  /** Every worker and instance with calls in flight, by worker then instance. */
  byWorker(): WorkerInstanceLoad[] {
    const out: WorkerInstanceLoad[] = [];
    for (const [worker, byInstance] of this.counts) for (const [instance, inFlight] of byInstance) out.push({ worker, instance, inFlight });
    return out.sort((a, b) => a.worker.localeCompare(b.worker) || (a.instance ?? '').localeCompare(b.instance ?? ''));
  }

  /** Oldest first out: a replay older than what is remembered is only possible right after a start. */
  private rememberEnded(runId: string, revision: number): void {
    this.ended.delete(runId);
    this.ended.set(runId, revision);
    if (this.ended.size > ENDED_REMEMBERED) this.ended.delete(this.ended.keys().next().value as string);
  }

  private count(call: OpenCall, delta: number): void {
    const byInstance = this.counts.get(call.worker) ?? new Map<string | undefined, number>();
    const n = (byInstance.get(call.instance) ?? 0) + delta;
    if (n > 0) byInstance.set(call.instance, n);
    else byInstance.delete(call.instance);
    if (byInstance.size > 0) this.counts.set(call.worker, byInstance);
    else this.counts.delete(call.worker);
  }
}
