import { describe, expect, it } from 'vitest';
import { CallLoad, type LoadEvent } from '../../src/domain/routing/call-load.js';

const started = (runId: string, revision: number, stepId: string, worker: string, instance?: string, attempt = 1): LoadEvent => ({ runId, revision, type: 'ToolCallStarted', data: { stepId, attempt, worker }, instance });
const ended = (runId: string, revision: number, stepId: string, type = 'ToolCallSucceeded', attempt = 1): LoadEvent => ({ runId, revision, type, data: { stepId, attempt } });

describe('CallLoad: calls in flight per worker and instance, folded from the log', () => {
  it('counts a started call until its result, per worker and deciding instance', () => {
    const load = new CallLoad();
    load.apply(started('r1', 3, 'a', 'w1', 'x'));
    load.apply(started('r2', 3, 'a', 'w1', 'y'));
    load.apply(started('r2', 4, 'b', 'w2', 'y'));
    expect(load.byWorker()).toEqual([
      { worker: 'w1', instance: 'x', inFlight: 1 },
      { worker: 'w1', instance: 'y', inFlight: 1 },
      { worker: 'w2', instance: 'y', inFlight: 1 },
    ]);
    expect(load.inFlightOf('w1', 'x')).toBe(1); // the caller's own calls left out
    load.apply(ended('r2', 5, 'a', 'ToolCallFailed'));
    expect(load.inFlightOf('w1', undefined)).toBe(1);
  });

  it('gives the same answer when events are applied twice (a stream read at start, then the same events live)', () => {
    const events = [started('r', 2, 's', 'w'), ended('r', 3, 's'), started('r', 4, 't', 'w')];
    const once = new CallLoad();
    const twice = new CallLoad();
    for (const e of events) once.apply(e);
    for (const e of [...events, ...events]) twice.apply(e);
    expect(twice.byWorker()).toEqual(once.byWorker());
    expect(once.byWorker()).toEqual([{ worker: 'w', instance: undefined, inFlight: 1 }]);
  });

  it('counts a call claimed again under the same key once, and drops a run with its terminal event', () => {
    const load = new CallLoad();
    load.apply(started('r', 2, 's', 'w', 'x'));
    load.apply(started('r', 3, 's', 'w', 'y')); // recovered by another instance: same step and attempt
    expect(load.byWorker()).toEqual([{ worker: 'w', instance: 'y', inFlight: 1 }]);
    load.apply({ runId: 'r', revision: 4, type: 'RunCancelled', data: {} });
    expect(load.byWorker()).toEqual([]);
  });

  it('holds nothing for finished runs: not for a late answer after the end, not for a replayed claim of an ended run', () => {
    const load = new CallLoad();
    const N = 1_000;
    for (let i = 0; i < N; i++) {
      const r = `r${i}`;
      load.apply({ runId: r, revision: 0, type: 'RunStarted', data: {} });
      load.apply(started(r, 1, 's', 'w'));
      load.apply({ runId: r, revision: 2, type: 'RunFailed', data: {} });
      // A call still running when its run failed is answered into the log after the end.
      load.apply(ended(r, 3, 's'));
      // The stream read at start and the same events live: an old claim seen again after the end.
      load.apply(started(r, 1, 's', 'w'));
    }
    expect(load.heldRuns()).toBe(0);
    expect(load.byWorker()).toEqual([]);
  });
});
