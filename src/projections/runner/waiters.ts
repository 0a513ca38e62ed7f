import type { Position } from '../../domain/ports/event-store.js';

interface Waiter {
  readonly cursor: Position;
  readonly names: readonly string[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Callers of `ProjectionRunner.waitFor`, kept in cursor order: waking them looks only at those the
 * log has reached. Whether a cursor is reached is the runner's to say (it knows the folds).
 */
export class Waiters {
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly compare: (a: Position, b: Position) => number,
    private readonly reached: (cursor: Position, names: readonly string[]) => boolean,
  ) {}

  /** How many callers are waiting. */
  get size(): number {
    return this.waiters.length;
  }

  /** Waits until `wake` finds `cursor` reached by every projection in `names`; rejects after `timeoutMs`. */
  wait(cursor: Position, names: readonly string[], timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        cursor,
        names,
        resolve: () => {
          clearTimeout(waiter.timer);
          this.remove(waiter);
          resolve();
        },
        reject: (error) => {
          clearTimeout(waiter.timer);
          this.remove(waiter);
          reject(error);
        },
        timer: setTimeout(
          () => waiter.reject(new Error(`projections ${names.join(', ')} did not reach ${cursor} within ${timeoutMs} ms`)),
          timeoutMs,
        ),
      };
      this.add(waiter);
    });
  }

  /**
   * Resolves the waiters whose cursor every projection they name has applied. Waiters are in
   * cursor order, so only those at or before the furthest applied cursor are looked at: one
   * comparison per event when nobody's cursor was reached.
   */
  wake(furthest: Position | undefined): void {
    if (furthest === undefined) return;
    const due: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.compare(w.cursor, furthest) > 0) break;
      if (this.reached(w.cursor, w.names)) due.push(w);
    }
    for (const w of due) w.resolve();
  }

  /** Rejects every waiter that names this projection (it was stopped by `error`). */
  rejectNaming(name: string, error: Error): void {
    for (const w of [...this.waiters]) if (w.names.includes(name)) w.reject(error);
  }

  private add(waiter: Waiter): void {
    const ws = this.waiters;
    const last = ws[ws.length - 1];
    // Usually the newest cursor: appended at the end after one comparison.
    if (last === undefined || this.compare(last.cursor, waiter.cursor) <= 0) {
      ws.push(waiter);
      return;
    }
    let lo = 0;
    let hi = ws.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare((ws[mid] as Waiter).cursor, waiter.cursor) <= 0) lo = mid + 1;
      else hi = mid;
    }
    ws.splice(lo, 0, waiter);
  }

  private remove(waiter: Waiter): void {
    const ws = this.waiters;
    // Waiters are mostly resolved oldest first: look from the front.
    const i = ws.indexOf(waiter);
    if (i >= 0) ws.splice(i, 1);
  }
}
