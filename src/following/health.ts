/** One follower of the log as /healthz and /metrics show it. */
export interface FollowerStatus {
  readonly name: string;
  readonly state: 'live' | 'stalled';
  /** When it stopped applying the log (ISO), while stalled. */
  readonly since?: string;
  /** Why, while stalled: the last error of its subscription or of a catch-up read. */
  readonly error?: string;
  /** How often its subscription failed and it resubscribed since the process started. */
  readonly resubscriptions: number;
}

/**
 * Where each follower of the log (projections, run follower, metrics) says whether it is live: a
 * follower whose subscription failed is stalled from that moment until it has caught up again.
 */
export class FollowerHealth {
  private readonly followers = new Map<string, { since?: number; error?: string; resubscriptions: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A follower whose subscription failed: stalled since the first failure, until `live`. */
  stalled(name: string, error: unknown): void {
    const f = this.entry(name);
    f.since ??= this.now();
    f.error = error instanceof Error ? error.message : String(error);
  }

  /** A follower that caught up with the log again and follows it live. */
  live(name: string): void {
    const f = this.entry(name);
    if (f.since !== undefined) f.resubscriptions++;
    f.since = undefined;
    f.error = undefined;
  }

  /** Every follower that ever reported, in the order they first did. */
  statuses(): FollowerStatus[] {
    return [...this.followers].map(([name, f]) =>
      f.since === undefined
        ? { name, state: 'live', resubscriptions: f.resubscriptions }
        : { name, state: 'stalled', since: new Date(f.since).toISOString(), error: f.error, resubscriptions: f.resubscriptions },
    );
  }

  /** Seconds a follower has been stalled; 0 while live. */
  stalledSeconds(name: string): number {
    const since = this.followers.get(name)?.since;
    return since === undefined ? 0 : Math.max(0, (this.now() - since) / 1000);
  }

  private entry(name: string) {
    let f = this.followers.get(name);
    if (!f) this.followers.set(name, (f = { resubscriptions: 0 }));
    return f;
  }
}

/** Capped exponential backoff: `baseMs`, doubling per failed attempt (from 0), never above `capMs`. */
export function backoffMs(attempt: number, baseMs = 100, capMs = 5_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
}

/** Waits `ms`, or less if `signal` aborts first (a follower being closed does not wait out its backoff). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
