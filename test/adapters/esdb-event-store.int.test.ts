import { EventStoreDBClient } from '@eventstore/db-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEsdbEventStore } from '../../src/adapters/eventstore/esdb/esdb-event-store.js';
import { ValidationError } from '../../src/domain/errors.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { describeEventStoreContract } from '../contracts/event-store.contract.js';
import { runStarted, stepSucceeded } from '../support/events.js';
import { type EsdbDouble, startEsdbDouble } from '../support/esdb-double/server.js';
import { take } from '../support/store-harness.js';

// Each harness gets its own double: a fresh log, as the memory and SQLite harnesses get.
describeEventStoreContract('EventStoreDB over the gRPC double', async (options) => {
  const double = await startEsdbDouble();
  const store = createEsdbEventStore({ connectionString: double.connectionString, ...options });
  const reopened: EventStore[] = [];
  return {
    store,
    reopen: async (more) => {
      const s = createEsdbEventStore({ connectionString: double.connectionString, ...options, ...more });
      reopened.push(s);
      return s;
    },
    cleanup: async () => {
      await Promise.all([store, ...reopened].map((s) => s.close()));
      double.close();
    },
  };
});

describe('EventStoreDB adapter: what the contract does not see', () => {
  let double: EsdbDouble;
  let store: EventStore;
  beforeAll(async () => {
    double = await startEsdbDouble();
    store = createEsdbEventStore({ connectionString: double.connectionString });
  });
  afterAll(async () => {
    await store.close();
    double.close();
  });

  it('cursors carry commit and prepare: the events of one append share a commit position', async () => {
    await store.append('run-pos', [runStarted('pos'), stepSucceeded(1, 'pos'), stepSucceeded(2, 'pos')]);
    const events = await store.readStream('run-pos');
    const cursors = events.map((e) => e.position);
    expect(cursors.every((c) => /^\d+:\d+$/.test(c))).toBe(true);
    expect(new Set(cursors.map((c) => c.split(':')[0])).size).toBe(1);
    expect(new Set(cursors).size).toBe(3);
    // Paging with the middle cursor must neither repeat nor skip its batch neighbours.
    const after = await store.readAll({ after: cursors[1], filter: { streamPrefix: ['run-pos'] } });
    expect(after.map((e) => e.revision)).toEqual([2]);
    const before = await store.readAll({ after: cursors[1], direction: 'backwards', filter: { streamPrefix: ['run-pos'] } });
    expect(before.map((e) => e.revision)).toEqual([0]);
    expect(store.comparePositions(cursors[0] as string, cursors[1] as string)).toBeLessThan(0);
    expect(store.comparePositions(cursors[2] as string, cursors[2] as string)).toBe(0);
    expect(() => store.comparePositions('7', cursors[0] as string)).toThrow(/invalid cursor/);
  });

  it('never hands out what the server wrote itself: seeded system events, $> links, $metadata', async () => {
    await store.append('run-sys', [runStarted('sys')]);
    const raw = double.log.all;
    expect(raw.filter((r) => r.streamId.startsWith('$') || r.type.startsWith('$')).length).toBeGreaterThan(5);
    const all = await store.readAll();
    expect(all.some((e) => e.streamId.startsWith('$') || e.type.startsWith('$'))).toBe(false);
    // The newest record in $all is the $> link of run-sys; the head is the user event before it.
    expect(raw[raw.length - 1]?.type).toBe('$>');
    expect(await store.headPosition()).toBe(all[all.length - 1]?.position);
    const sub = store.subscribeToAll({ filter: { eventTypes: ['RunStarted'] } });
    const seen = await take(sub, 2);
    expect(seen.map((e) => e.streamId)).toEqual(['run-pos', 'run-sys']);
    await sub.close();
  });

  it('translates the server refusing an append: a tombstoned stream, an append over its size limit', async () => {
    await store.append('run-tomb', [runStarted('tomb')]);
    const raw = EventStoreDBClient.connectionString(double.connectionString);
    await raw.tombstoneStream('run-tomb');
    await raw.dispose();
    await expect(store.append('run-tomb', [stepSucceeded(1, 'tomb')])).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    await expect(store.readStream('run-tomb')).rejects.toMatchObject({ code: 'ILLEGAL_STATE', message: /run-tomb was deleted/ });
    // Each event is under the codec's 1 MiB; together they pass the server's MaxAppendSize.
    const half = (n: number) => ({ ...stepSucceeded(n, 'big'), data: { stepId: `s${n}`, attempt: 1, output: 'x'.repeat(600_000), durationMs: 1 } });
    const error = await store.append('run-big', [half(1), half(2)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/maximum append size of 1048576/);
    expect(await store.readStream('run-big')).toEqual([]);
  });

  it('close() cancels the gRPC call: the double stops following', async () => {
    // Only the category-link writer follows the log once earlier subscriptions are gone.
    await expect.poll(() => double.log.followerCount()).toBe(1);
    const sub = store.subscribeToAll();
    await take(sub, 1);
    expect(double.log.followerCount()).toBe(2);
    const waiting = sub.next();
    await sub.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    await expect.poll(() => double.log.followerCount()).toBe(1);
  });

  it('headPosition reads a handful of events backwards, not a page of thousands: every read-your-writes wait asks it', async () => {
    // 3,000 user events, each followed by its $> link: the head is behind one system event.
    for (let b = 0; b < 30; b++) await store.append(`run-head-${b}`, Array.from({ length: 100 }, (_, i) => stepSucceeded(i, `head-${b}`)));
    const last = await store.append('run-head-last', [runStarted('head-last')]);
    const before = double.reads.recordsSent;
    expect(await store.headPosition()).toBe(last.position);
    // It asked for 4,096 (the double sent all of them) before; one page of 4 now.
    expect(double.reads.recordsSent - before).toBeLessThanOrEqual(4);
  });
});
