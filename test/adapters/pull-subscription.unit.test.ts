import { describe, expect, it } from 'vitest';
import { ChangeSignal } from '../../src/adapters/eventstore/shared/change-signal.js';
import { PullSubscription } from '../../src/adapters/eventstore/shared/pull-subscription.js';
import type { RecordedEvent } from '../../src/domain/ports/event-store.js';
import { settledWithin } from '../support/store-harness.js';

const event = (n: number): RecordedEvent => ({
  id: `e${n}`,
  streamId: 'run-1',
  revision: n,
  position: String(n + 1),
  type: 'ToolCallSucceeded',
  data: {},
  metadata: { correlationId: '1', actor: 'x', schemaVersion: 1 },
  recordedAt: new Date(0),
});

/** The id of the event a next() delivered ('pending' if it did not settle in time). */
const idOf = (r: IteratorResult<RecordedEvent> | 'pending') => (r === 'pending' ? r : r.value?.id);

describe('PullSubscription', () => {
  it('does not miss a commit that lands after its read started and before it waits', async () => {
    const changes = new ChangeSignal();
    const log: RecordedEvent[] = [];
    const sub = new PullSubscription<number>(
      0,
      (after) => {
        const page = log.slice(after);
        // A commit lands while this read is in flight: the read did not see it.
        if (log.length === 0) {
          queueMicrotask(() => {
            log.push(event(0));
            changes.bump();
          });
        }
        return Promise.resolve({ events: page, cursor: after + page.length });
      },
      changes,
    );
    const first = await settledWithin(sub.next(), 200);
    expect(first).toEqual({ done: false, value: event(0) });
    await sub.close();
  });

  it('serves concurrent next() calls one event each, in order', async () => {
    const changes = new ChangeSignal();
    const log = [event(0), event(1), event(2)];
    const sub = new PullSubscription<number>(0, (after) => ({ events: log.slice(after, after + 1), cursor: Math.min(after + 1, log.length) }), changes);
    const results = await Promise.all([sub.next(), sub.next(), sub.next()]);
    expect(results.map((r) => r.value?.id)).toEqual(['e0', 'e1', 'e2']);
    await sub.close();
  });

  it('ends with the fetch error and closes itself', async () => {
    const sub = new PullSubscription<number>(0, () => Promise.reject(new Error('disk gone')), new ChangeSignal());
    await expect(sub.next()).rejects.toThrow('disk gone');
    expect(sub.isClosed).toBe(true);
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });

  it('tells the store when the first waiter comes and the last one goes', async () => {
    const counts: number[] = [];
    const changes = new ChangeSignal((n) => counts.push(n));
    const sub = new PullSubscription<number>(0, () => ({ events: [], cursor: 0 }), changes);
    const waiting = sub.next();
    await new Promise((r) => setTimeout(r, 5));
    expect(changes.waiterCount()).toBe(1);
    await sub.close();
    await waiting;
    expect(changes.waiterCount()).toBe(0);
    expect(counts).toEqual([1, 0]);
  });

  it('after a caught-up page it waits for the next commit instead of reading an empty page (one read per commit, two before)', async () => {
    const changes = new ChangeSignal();
    const log: RecordedEvent[] = [];
    let reads = 0;
    const sub = new PullSubscription<number>(0, (after) => {
      reads++;
      const page = log.slice(after);
      return { events: page, cursor: after + page.length, caughtUp: true };
    }, changes);
    for (let n = 0; n < 10; n++) {
      const next = sub.next(); // a live reader: already waiting when the commit lands
      await new Promise((resolve) => setImmediate(resolve));
      log.push(event(n));
      changes.bump();
      expect(idOf(await settledWithin(next, 1_000))).toBe(`e${n}`);
    }
    expect(reads).toBe(11); // the first read finds the log empty; then one per commit
    await sub.close();
  });

  it('a commit that lands during a caught-up read is still read (the counter moved)', async () => {
    const changes = new ChangeSignal();
    const log: RecordedEvent[] = [event(0)];
    const sub = new PullSubscription<number>(0, (after) => {
      const page = log.slice(after);
      if (log.length === 1) {
        queueMicrotask(() => {
          log.push(event(1));
          changes.bump();
        });
      }
      return Promise.resolve({ events: page, cursor: after + page.length, caughtUp: true });
    }, changes);
    expect(idOf(await settledWithin(sub.next(), 200))).toBe('e0');
    expect(idOf(await settledWithin(sub.next(), 200))).toBe('e1');
    await sub.close();
  });

  it('a stream subscription is not woken by commits that name only other streams (one read per own commit, not per commit)', async () => {
    const changes = new ChangeSignal();
    const logs = new Map<string, RecordedEvent[]>();
    const reads = new Map<string, number>();
    const subscribe = (streamId: string) =>
      new PullSubscription<number>(0, (after) => {
        reads.set(streamId, (reads.get(streamId) ?? 0) + 1);
        const page = (logs.get(streamId) ?? []).slice(after);
        return { events: page, cursor: after + page.length, caughtUp: true };
      }, changes, () => {}, streamId);
    const quiet = Array.from({ length: 10 }, (_, i) => subscribe(`run-q${i}`));
    const waiting = quiet.map((q) => q.next());
    const busy = subscribe('run-busy');
    for (let n = 0; n < 20; n++) {
      const next = busy.next();
      await new Promise((resolve) => setImmediate(resolve));
      logs.set('run-busy', [...(logs.get('run-busy') ?? []), event(n)]);
      changes.bump(['run-busy']);
      expect(idOf(await settledWithin(next, 1_000))).toBe(`e${n}`);
    }
    // Each quiet one read once (found nothing) and then slept through the 20 commits of run-busy.
    for (let i = 0; i < 10; i++) expect(reads.get(`run-q${i}`)).toBe(1);
    // A commit that names no streams (another process's, seen by polling) wakes everyone.
    logs.set('run-q0', [event(0)]);
    changes.bump();
    expect(idOf(await settledWithin(waiting[0]!, 1_000))).toBe('e0');
    for (let i = 1; i < 10; i++) expect(reads.get(`run-q${i}`)).toBe(2);
    for (const sub of [...quiet, busy]) await sub.close();
    expect(changes.waiterCount()).toBe(0);
  });
});


describe('PullSubscription close', () => {
  it('wakes its waiting read with a shared reason: no AbortError (a DOMException and its stack) is built per close', async () => {
    const changes = new ChangeSignal();
    const reasons: unknown[][] = [];
    const abort = AbortController.prototype.abort;
    AbortController.prototype.abort = function (this: AbortController, ...args: unknown[]) {
      reasons.push(args);
      return abort.apply(this, args as [unknown]);
    };
    try {
      const sub = new PullSubscription<number>(0, (after) => Promise.resolve({ events: [], cursor: after }), changes);
      const waiting = sub.next();
      await sub.close();
      expect(await settledWithin(waiting, 1_000)).toEqual({ done: true, value: undefined });
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toHaveLength(1);
      expect(reasons[0]?.[0]).not.toBeInstanceOf(DOMException);
    } finally {
      AbortController.prototype.abort = abort;
    }
  });
});
