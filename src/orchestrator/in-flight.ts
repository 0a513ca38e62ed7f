/** The work this engine started off the decision path (tool calls, consultations): what a shutdown waits for. */
export class InFlight {
  private readonly running = new Set<Promise<void>>();

  /** Counts `work` as in flight until it settles. */
  track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  /** Settles once everything in flight now has settled. */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.running]);
  }
}
