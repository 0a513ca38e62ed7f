/**
 * A counter of committed appends that live readers wait on. Waiting is "until the counter moves
 * past the value I saw before reading", so a commit between a read and the wait is never missed.
 * A reader of one stream may wait for that stream only: a commit that names its streams wakes the
 * readers of those streams (and every reader of `$all`), not the readers of every other stream, so
 * N stream subscriptions cost one read per commit of their own stream, not N reads per commit.
 */
export class ChangeSignal {
  private version = 0;
  private waiters = new Set<() => void>();
  /** Readers of one stream, by stream id. */
  private byStream = new Map<string, Set<() => void>>();
  private count = 0;
  /** Called when the first waiter arrives and after the last one leaves (for pollers). */
  constructor(private readonly onWaitersChanged?: (count: number) => void) {}

  current(): number {
    return this.version;
  }

  /**
   * Something was committed: wake every waiter of `$all` and those of `streams`, or, when the
   * streams are not known (a commit another process made, seen by polling), every waiter.
   */
  bump(streams?: Iterable<string>): void {
    this.version++;
    if (this.count === 0) return;
    const woken: Array<() => void> = [...this.waiters];
    this.waiters = new Set();
    if (streams === undefined) {
      for (const set of this.byStream.values()) woken.push(...set);
      this.byStream = new Map();
    } else {
      for (const streamId of streams) {
        const set = this.byStream.get(streamId);
        if (!set) continue;
        this.byStream.delete(streamId);
        woken.push(...set);
      }
    }
    this.count -= woken.length;
    for (const wake of woken) wake();
    if (this.count === 0) this.onWaitersChanged?.(0);
  }

  /** Resolves once the counter differs from `seen` (for `streamId`'s reader: by a commit that may name it), or when `signal` aborts. */
  waitForChange(seen: number, signal: AbortSignal, streamId?: string): Promise<void> {
    if (this.version !== seen || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const set = streamId === undefined ? this.waiters : this.byStream.get(streamId);
        if (set?.delete(wake)) {
          if (streamId !== undefined && set.size === 0) this.byStream.delete(streamId);
          this.count--;
          this.onWaitersChanged?.(this.count);
        }
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (streamId === undefined) this.waiters.add(wake);
      else {
        let set = this.byStream.get(streamId);
        if (!set) this.byStream.set(streamId, (set = new Set()));
        set.add(wake);
      }
      this.count++;
      if (this.count === 1) this.onWaitersChanged?.(1);
    });
  }

  waiterCount(): number {
    return this.count;
  }
}
