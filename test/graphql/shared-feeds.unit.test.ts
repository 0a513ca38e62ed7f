import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteEventStore, type SqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import type { RecordedEvent, Subscription } from '../../src/domain/ports/event-store.js';
import { createSharedFeeds } from '../../src/graphql/live/shared-feeds.js';
import { tempDir } from '../support/temp.js';

const warn = (n: number, runId = 'r1') => ({ type: 'BudgetWarning', data: { scope: { kind: 'total' }, used: n, limit: 1000, percent: 0.1 }, metadata: { correlationId: runId, actor: 'system:test' } });

async function take(sub: Subscription, n: number): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  while (out.length < n) {
    const r = await sub.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('shared live feeds: one store subscription per stream, each client with its own cursor', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  beforeEach(() => {
    tmp = tempDir('gatehouse-shared-');
    store = createSqliteEventStore({ path: join(tmp.dir, 'events.sqlite') });
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('clients with different cursors each get every later revision exactly once, across catch-up and live', async () => {
    for (let i = 0; i < 5; i++) await store.append('run-r1', [warn(i)]);
    const feeds = createSharedFeeds(store, { pageSize: 2 });
    const fromStart = feeds.stream('run-r1', -1);
    const fromTwo = feeds.stream('run-r1', 2);
    const fromNow = feeds.stream('run-r1', 'end');
    const live = Promise.all([take(fromStart, 9), take(fromTwo, 6), take(fromNow, 4)]);
    // Appends interleave with the catch-up reads.
    for (let i = 5; i < 9; i++) {
      await store.append('run-r1', [warn(i)]);
      await new Promise((r) => setImmediate(r));
    }
    const [a, b, c] = await live;
    expect(a.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(b.map((e) => e.revision)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(c.map((e) => e.revision)).toEqual([5, 6, 7, 8]);
    // The same decoded event is shared, not re-read per client.
    expect(a[8]).toBe(b[5]);
    expect(a[8]).toBe(c[3]);
    await Promise.all([fromStart.close(), fromTwo.close(), fromNow.close()]);
  });

  it('a slow client whose queue overflows reads the log again and still misses nothing', async () => {
    const feeds = createSharedFeeds(store, { maxQueued: 3, pageSize: 4 });
    const slow = feeds.stream('run-r1', -1);
    const fast = feeds.stream('run-r1', -1);
    const fastSeen = take(fast, 21);
    await store.append('run-r1', [warn(0)]);
    expect((await take(slow, 1)).map((e) => e.revision)).toEqual([0]); // caught up, now live
    for (let i = 1; i <= 20; i++) {
      await store.append('run-r1', [warn(i)]);
      await new Promise((r) => setImmediate(r));
    }
    expect((await fastSeen).map((e) => e.revision)).toEqual([...Array(21).keys()]);
    expect((await take(slow, 20)).map((e) => e.revision)).toEqual([...Array(21).keys()].slice(1));
    await Promise.all([slow.close(), fast.close()]);
  });

  it('close() ends a waiting next() at once; the last client to leave releases the store subscription', async () => {
    const feeds = createSharedFeeds(store);
    const sub = feeds.stream('run-r1', -1);
    const waiting = sub.next();
    await new Promise((r) => setTimeout(r, 20));
    await sub.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    // A new client opens a fresh shared subscription that works.
    const again = feeds.stream('run-r1', -1);
    await store.append('run-r1', [warn(1)]);
    expect((await take(again, 1)).map((e) => e.revision)).toEqual([0]);
    await again.close();
  });

  it('$all feeds: from now on, in log order, one filter shared; the store closing ends every client', async () => {
    await store.append('run-r1', [warn(0)]);
    const feeds = createSharedFeeds(store);
    const a = feeds.all({ streamPrefix: ['run-'] });
    const b = feeds.all({ streamPrefix: ['run-'] });
    const seenA = take(a, 3);
    const seenB = take(b, 3);
    await new Promise((r) => setTimeout(r, 10));
    await store.append('run-r2', [warn(1, 'r2')]);
    await store.append('other-x', [warn(2, 'x')]);
    await store.append('run-r1', [warn(3)]);
    await store.append('run-r3', [warn(4, 'r3')]);
    const streams = (events: RecordedEvent[]) => events.map((e) => e.streamId);
    expect(streams(await seenA)).toEqual(['run-r2', 'run-r1', 'run-r3']);
    expect(streams(await seenB)).toEqual(['run-r2', 'run-r1', 'run-r3']);
    const waiting = a.next();
    await store.close();
    expect((await waiting).done).toBe(true);
  });
});
