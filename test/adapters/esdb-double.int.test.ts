/**
 * The gRPC double's fidelity claims, checked with the raw @eventstore/db-client over loopback:
 * the adapter's tests are only as good as these.
 */
import { randomUUID } from 'node:crypto';
import {
  END,
  EventStoreDBClient,
  type ResolvedEvent,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
} from '@eventstore/db-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EsdbDouble, startEsdbDouble } from '../support/esdb-double/server.js';
import { MAX_APPEND_SIZE } from '../support/esdb-double/append.js';

const event = (n: number, id: string = randomUUID()) => jsonEvent({ id, type: 'ToolCallSucceeded', data: { n }, metadata: { correlationId: 'r' } });

async function collect(stream: AsyncIterable<ResolvedEvent>): Promise<ResolvedEvent[]> {
  const out: ResolvedEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

describe('EventStoreDB test double, through the raw client', () => {
  let double: EsdbDouble;
  let client: EventStoreDBClient;
  beforeEach(async () => {
    double = await startEsdbDouble();
    client = EventStoreDBClient.connectionString(double.connectionString);
  });
  afterEach(async () => {
    await client.dispose();
    double.close();
  });

  it('appends and reads back: revisions, JSON data and metadata, 100 ns ticks, commit and prepare positions', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const result = await client.appendToStream('run-a', ids.map((id, i) => event(i, id)), { expectedRevision: 'no_stream' });
    expect(result).toMatchObject({ success: true, nextExpectedRevision: 2n });
    const events = await collect(client.readStream('run-a'));
    expect(events.map((e) => e.event?.id)).toEqual(ids);
    expect(events.map((e) => e.event?.revision)).toEqual([0n, 1n, 2n]);
    const first = events[0]?.event;
    expect(first).toMatchObject({ streamId: 'run-a', type: 'ToolCallSucceeded', data: { n: 0 }, metadata: { correlationId: 'r' }, isJson: true });
    expect(Math.abs((first?.created.getTime() ?? 0) - Date.now())).toBeLessThan(5_000);
    // One append is one implicit transaction: a shared commit position, one prepare per event.
    const positions = events.map((e) => e.event?.position);
    expect(new Set(positions.map((p) => p?.commit)).size).toBe(1);
    expect(positions.map((p) => p?.prepare)).toEqual([...positions.map((p) => p?.prepare)].sort((a, b) => (a! < b! ? -1 : 1)));
    expect(positions[2]?.prepare).toBeGreaterThan(positions[1]?.prepare ?? 0n);
    expect(result.position).toEqual(positions[2]);
  });

  it('reports a conflict as WrongExpectedVersionError with expected and current revision', async () => {
    await client.appendToStream('run-c', [event(0)]);
    const cases = [
      [{ expectedRevision: 'no_stream' as const }, 'run-c', 'no_stream', 0n],
      [{ expectedRevision: 5n }, 'run-c', 5n, 0n],
      [{ expectedRevision: 'stream_exists' as const }, 'run-none', 'stream_exists', 'no_stream'],
      [{ expectedRevision: 0n }, 'run-none', 0n, 'no_stream'],
    ] as const;
    for (const [options, stream, expected, actual] of cases) {
      const error = await client.appendToStream(stream, [event(1)], options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamName: stream, expectedVersion: expected, actualVersion: actual });
    }
    expect(await collect(client.readStream('run-c'))).toHaveLength(1);
  });

  it('reading a missing stream is StreamNotFoundError (the server sends stream_not_found, not a status)', async () => {
    await expect(collect(client.readStream('run-missing'))).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('reads streams and $all in both directions from a revision or position, with a count', async () => {
    await client.appendToStream('run-r', [0, 1, 2, 3, 4].map((n) => event(n)));
    const revisions = async (o: Parameters<EventStoreDBClient['readStream']>[1]) =>
      (await collect(client.readStream('run-r', o))).map((e) => Number(e.event?.revision));
    expect(await revisions({ fromRevision: 3n })).toEqual([3, 4]);
    expect(await revisions({ direction: 'backwards', fromRevision: END, maxCount: 2 })).toEqual([4, 3]);
    expect(await revisions({ direction: 'backwards', fromRevision: 1n })).toEqual([1, 0]);
    expect(await revisions({ fromRevision: 9n })).toEqual([]);

    const all = await collect(client.readAll());
    const third = all.find((e) => e.event?.streamId === 'run-r' && e.event.revision === 2n)?.event?.position;
    const from = await collect(client.readAll({ fromPosition: third!, maxCount: 2 }));
    expect(from.map((e) => e.event?.revision)).toEqual([2n, 3n]); // a read includes its start
    const before = await collect(client.readAll({ fromPosition: third!, direction: 'backwards', maxCount: 2 }));
    expect(before.map((e) => e.event?.revision)).toEqual([1n, 0n]); // backwards excludes it
    const backwards = await collect(client.readAll({ direction: 'backwards', fromPosition: END }));
    expect(backwards.map((e) => e.event?.id)).toEqual([...all].reverse().map((e) => e.event?.id));
  });

  it('holds system events and $> category links in $all, which excludeSystemEvents removes', async () => {
    await client.appendToStream('run-s', [event(0), event(1)]);
    const all = await collect(client.readAll());
    const system = all.filter((e) => e.event?.type.startsWith('$'));
    expect(system.length).toBeGreaterThanOrEqual(5);
    expect(all.filter((e) => e.event?.streamId === '$ce-run').map((e) => e.event?.type)).toEqual(['$>', '$>']);
    const sub = client.subscribeToAll({ filter: excludeSystemEvents() });
    const seen: string[] = [];
    for await (const e of sub) {
      seen.push(`${e.event?.streamId}/${e.event?.revision}`);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['run-s/0', 'run-s/1']);
  });

  it('orders a subscription as confirmation, catch-up events, checkpoint, caught_up, then live', async () => {
    await client.appendToStream('run-o', [event(0), event(1)]);
    const order: string[] = [];
    const sub = client.subscribeToAll({
      fromPosition: START,
      filter: streamNameFilter({ prefixes: ['run-'], checkpointReached: (_s, position) => void order.push(`checkpoint@${position.commit}`) }),
    });
    sub.on('confirmation', () => order.push('confirmation'));
    sub.on('caughtUp', () => order.push('caught_up'));
    const caughtUp = new Promise((resolve) => sub.once('caughtUp', resolve));
    const live = (async () => {
      for await (const e of sub) {
        order.push(`event ${e.event?.streamId}/${e.event?.revision}`);
        if (e.event?.streamId === 'run-live') break;
      }
    })();
    await caughtUp;
    await client.appendToStream('run-live', [event(2)]);
    await live;
    const head = order.indexOf('caught_up');
    expect(order[0]).toBe('confirmation');
    expect(order.slice(1, 3)).toEqual(['event run-o/0', 'event run-o/1']);
    expect(order[head - 1]).toMatch(/^checkpoint@/);
    expect(order.slice(head + 1)).toEqual(['event run-live/0']);
  });

  it('starts a subscription after its position (exclusive), and END sees only new events', async () => {
    await client.appendToStream('run-x', [event(0), event(1), event(2)]);
    const all = await collect(client.readAll());
    const first = all.find((e) => e.event?.streamId === 'run-x')?.event?.position;
    const sub = client.subscribeToAll({ fromPosition: first!, filter: streamNameFilter({ prefixes: ['run-x'] }) });
    const got: bigint[] = [];
    for await (const e of sub) {
      got.push(e.event?.revision ?? -1n);
      if (got.length === 2) break;
    }
    expect(got).toEqual([1n, 2n]);

    const fromEnd = client.subscribeToStream('run-x', { fromRevision: END });
    const next = (async () => {
      for await (const e of fromEnd) return e.event?.revision;
      return undefined;
    })();
    await new Promise((resolve) => fromEnd.once('caughtUp', resolve));
    await client.appendToStream('run-x', [event(3)]);
    expect(await next).toBe(3n);
  });

  it('tombstone: reads and appends fail with StreamDeletedError; $all keeps a $streamDeleted event', async () => {
    await client.appendToStream('run-t', [event(0)]);
    await client.tombstoneStream('run-t');
    await expect(collect(client.readStream('run-t'))).rejects.toBeInstanceOf(StreamDeletedError);
    await expect(client.appendToStream('run-t', [event(1)])).rejects.toBeInstanceOf(StreamDeletedError);
    const all = await collect(client.readAll());
    expect(all.filter((e) => e.event?.streamId === 'run-t').map((e) => e.event?.type)).toEqual(['ToolCallSucceeded', '$streamDeleted']);
  });

  it('soft delete: the stream reads as not found, its events stay in $all, $tb lands in its metadata stream', async () => {
    await client.appendToStream('run-d', [event(0), event(1)]);
    await expect(client.deleteStream('run-d', { expectedRevision: 0n })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await client.deleteStream('run-d', { expectedRevision: 1n });
    await expect(collect(client.readStream('run-d'))).rejects.toBeInstanceOf(StreamNotFoundError);
    const all = await collect(client.readAll());
    expect(all.filter((e) => e.event?.streamId === 'run-d')).toHaveLength(2);
    expect(all.find((e) => e.event?.streamId === '$$run-d')?.event).toMatchObject({ type: '$metadata', data: { $tb: 2 } });
  });

  it('answers UNIMPLEMENTED for what it does not serve and refuses options it does not model', async () => {
    await client.appendToStream('run-u', [event(0)]);
    await expect(client.getProjectionStatus('by-category')).rejects.toMatchObject({ code: 12 }); // UNIMPLEMENTED
    await expect(collect(client.readAll({ resolveLinkTos: true }))).rejects.toThrow(/does not model resolving link events/);
    const big = jsonEvent({ type: 'Big', data: { text: 'x'.repeat(MAX_APPEND_SIZE / 2) } });
    await expect(client.appendToStream('run-u', [big, big, big])).rejects.toMatchObject({ type: 'maximum-append-size-exceeded' });
  });
});
