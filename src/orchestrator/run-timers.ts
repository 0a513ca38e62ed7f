import type { Clock } from './clock.js';
import type { RunHandle } from './run-handles.js';

/**
 * Arms one timer per run for the earliest instant something becomes due (from nextActions). The
 * timer is only a wake-up: what is due is always decided again from the log's fold.
 */
export class RunTimers {
  constructor(
    private readonly clock: Clock,
    private readonly isClosed: () => boolean,
    private readonly kick: (runId: string) => void,
  ) {}

  /** Arms (or moves, or clears with `at` undefined) the run's wake-up. */
  schedule(runId: string, handle: RunHandle, at: string | undefined): void {
    if (at === handle.timerAt) return;
    if (handle.timer) clearTimeout(handle.timer);
    handle.timer = undefined;
    handle.timerAt = at;
    if (!at || this.isClosed()) return;
    const delay = Math.max(0, Date.parse(at) - this.clock.now().getTime());
    handle.timer = setTimeout(() => {
      handle.timer = undefined;
      handle.timerAt = undefined;
      this.kick(runId);
    }, Math.min(delay, 2_147_483_647));
  }
}
