/**
 * A counter of committed appends that live readers wait on. Waiting is "until the counter moves
 * past the value I saw before reading", so a commit between a read and the wait is never missed.
 */
export class ChangeSignal {
  private version = 0;
  private waiters = new Set<() => void>();
  /** Called when the first waiter arrives and after the last one leaves (for pollers). */
  constructor(private readonly onWaitersChanged?: (count: number) => void) {}

  current(): number {
    return this.version;
  }

  /** Something was committed: wake every waiter. */
  bump(): void {
    this.version++;
    if (this.waiters.size === 0) return;
    const woken = this.waiters;
    this.waiters = new Set();
    for (const wake of woken) wake();
    this.onWaitersChanged?.(0);
  }

  /** Resolves once the counter differs from `seen`, or when `signal` aborts. */
  waitForChange(seen: number, signal: AbortSignal): Promise<void> {
    if (this.version !== seen || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        if (this.waiters.delete(wake)) this.onWaitersChanged?.(this.waiters.size);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(wake);
      if (this.waiters.size === 1) this.onWaitersChanged?.(1);
    });
  }

  waiterCount(): number {
    return this.waiters.size;
  }
}
