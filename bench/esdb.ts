/**
 * The EventStoreDB adapter next to the raw @eventstore/db-client doing the same work against the
 * same in-process gRPC double (loopback, no server-side latency): what remains is the adapter's
 * own overhead (validation with zod, revision mapping, cursor formatting, parsing on read,
 * system-event filtering). The raw side does the JSON and `$` filtering it would need anyway.
 */
import { randomUUID } from 'node:crypto';
import { sampleEvent } from './support/sample.js';
import { BACKWARDS, END, EventStoreDBClient, excludeSystemEvents, jsonEvent, type ResolvedEvent } from '@eventstore/db-client';
import { createEsdbEventStore } from '../src/adapters/eventstore/esdb/esdb-event-store.js';
import type { EventToAppend } from '../src/domain/ports/event-store.js';
import { startEsdbDouble } from '../test/support/esdb-double/server.js';
import { interleaved } from './support/measure.js';
import { printTable } from './support/table.js';

const SINGLE = 2_000;
const EVENTS = 20_000;
const BATCH = 100;
const ROUNDS = 5;
/** headPosition calls per round: every read-your-writes wait makes one. */
const HEADS = 100;


const rawEvent = (e: EventToAppend) =>
  jsonEvent({ id: randomUUID(), type: e.type, data: e.data as never, metadata: { ...e.metadata, schemaVersion: 1 } });

const isUserEvent = (r: ResolvedEvent) => !!r.event && !r.event.type.startsWith('$') && !r.event.streamId.startsWith('$');

export async function run(): Promise<void> {
  const events = Array.from({ length: EVENTS }, (_, i) => sampleEvent(i));
  let round = 0;

  const writes = await startEsdbDouble({ categoryLinks: false });
  const rawWriter = EventStoreDBClient.connectionString(writes.connectionString);
  const storeWriter = createEsdbEventStore({ connectionString: writes.connectionString });
  const single = await interleaved(ROUNDS, {
    raw: async () => {
      const r = round++;
      for (let i = 0; i < SINGLE; i++) await rawWriter.appendToStream(`run-${r}-${i >> 4}`, rawEvent(events[i] as EventToAppend));
    },
    gatehouse: async () => {
      const r = round++;
      for (let i = 0; i < SINGLE; i++) await storeWriter.append(`run-${r}-${i >> 4}`, [events[i] as EventToAppend]);
    },
  });
  const batched = await interleaved(ROUNDS, {
    raw: async () => {
      const r = round++;
      for (let b = 0; b < EVENTS / BATCH; b++) {
        await rawWriter.appendToStream(`run-${r}-${b}`, events.slice(b * BATCH, (b + 1) * BATCH).map(rawEvent));
      }
    },
    gatehouse: async () => {
      const r = round++;
      for (let b = 0; b < EVENTS / BATCH; b++) await storeWriter.append(`run-${r}-${b}`, events.slice(b * BATCH, (b + 1) * BATCH));
    },
  });
  await storeWriter.close();
  await rawWriter.dispose();
  writes.close();

  // Reads: one double holding EVENTS user events (plus its seeded system events).
  const reads = await startEsdbDouble({ categoryLinks: false });
  const store = createEsdbEventStore({ connectionString: reads.connectionString });
  for (let b = 0; b < EVENTS / BATCH; b++) await store.append(`run-${b}`, events.slice(b * BATCH, (b + 1) * BATCH));
  const raw = EventStoreDBClient.connectionString(reads.connectionString);
  const readAll = await interleaved(ROUNDS, {
    raw: async () => {
      const out: ResolvedEvent[] = [];
      for await (const r of raw.readAll()) if (isUserEvent(r)) out.push(r);
      if (out.length !== EVENTS) throw new Error(`raw readAll saw ${out.length}`);
    },
    gatehouse: async () => {
      const all = await store.readAll();
      if (all.length !== EVENTS) throw new Error(`readAll saw ${all.length}`);
    },
  });
  const catchUp = await interleaved(ROUNDS, {
    raw: async () => {
      const sub = raw.subscribeToAll({ filter: excludeSystemEvents() });
      let n = 0;
      for await (const r of sub) if (isUserEvent(r) && ++n === EVENTS) break;
    },
    gatehouse: async () => {
      const sub = store.subscribeToAll();
      let n = 0;
      for await (const _ of sub) if (++n === EVENTS) break;
    },
  });
  // The head: the raw side reads the newest event (this double holds no $> links, so it is a user event).
  const head = await interleaved(ROUNDS, {
    raw: async () => {
      for (let i = 0; i < HEADS; i++) {
        const out: ResolvedEvent[] = [];
        for await (const r of raw.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) out.push(r);
        if (!out[0] || !isUserEvent(out[0])) throw new Error('raw head read saw no user event');
      }
    },
    gatehouse: async () => {
      for (let i = 0; i < HEADS; i++) if ((await store.headPosition()) === undefined) throw new Error('headPosition saw no head');
    },
  });
  await store.close();
  await raw.dispose();
  reads.close();

  const row = (name: string, count: number, m: Record<string, number>) => {
    const rawRate = (count / (m.raw as number)) * 1000;
    const ours = (count / (m.gatehouse as number)) * 1000;
    return {
      operation: name,
      'raw client events/s': Math.round(rawRate),
      'gatehouse events/s': Math.round(ours),
      'ratio (median)': `${Math.round((ours / rawRate) * 100)} %`,
      target: '≥ 80 %',
    };
  };
  printTable(`event store: EventStoreDB adapter vs raw @eventstore/db-client, both over the loopback gRPC double (median of ${ROUNDS})`, [
    row(`append, 1 event per call (${SINGLE.toLocaleString('en-US')})`, SINGLE, single),
    row(`append, ${BATCH} events per call (${EVENTS.toLocaleString('en-US')})`, EVENTS, batched),
    row(`readAll with parse (${EVENTS.toLocaleString('en-US')})`, EVENTS, readAll),
    row(`subscription catch-up (${EVENTS.toLocaleString('en-US')})`, EVENTS, catchUp),
    // Calls/s, not events/s: the raw client reading the newest event of the log is the baseline.
    row(`headPosition of ${EVENTS.toLocaleString('en-US')} (${HEADS} calls; raw: backwards read of 1)`, HEADS, head),
  ]);
}
