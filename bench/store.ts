/**
 * The SQLite event store next to raw better-sqlite3 doing the same work in the same run: the same
 * rows (UUIDs, JSON text, the same table and index), prepared statements, WAL, synchronous NORMAL.
 * Ours adds validation with zod, the revision check, the transaction and parsing on read.
 */
import { randomUUID } from 'node:crypto';
import { sampleEvent, type RawRow } from './support/sample.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { CREATE_TABLES } from '../src/adapters/eventstore/sqlite/schema.js';
import type { EventStore, EventToAppend } from '../src/domain/ports/event-store.js';
import { interleaved } from './support/measure.js';
import { printTable } from './support/table.js';

const EVENTS = 20_000;
const BATCH = 100;
const ROUNDS = 5;



/** The baseline: a plain events table driven directly with prepared statements. */
function rawStore(path: string) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(CREATE_TABLES);
  const insert = db.prepare(
    'INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const select = db.prepare<[number, number], RawRow>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?');
  const revisions = new Map<string, number>();
  const insertOne = (stream: string, e: EventToAppend) => {
    const revision = (revisions.get(stream) ?? -1) + 1;
    revisions.set(stream, revision);
    insert.run(stream, revision, randomUUID(), e.type, JSON.stringify(e.data), JSON.stringify({ ...e.metadata, schemaVersion: 1 }), Date.now());
  };
  const insertBatch = db.transaction((stream: string, events: EventToAppend[]) => {
    for (const e of events) insertOne(stream, e);
  });
  const parse = (r: RawRow) => ({ ...r, data: JSON.parse(r.data), metadata: JSON.parse(r.metadata) as unknown });
  return {
    appendOne: insertOne,
    appendBatch: insertBatch,
    readAll: () => select.all(0, -1).map(parse),
    catchUp: () => {
      let after = 0;
      let count = 0;
      for (;;) {
        const page = select.all(after, 512);
        if (page.length === 0) return count;
        for (const r of page) parse(r);
        count += page.length;
        after = (page[page.length - 1] as RawRow).position;
      }
    },
    close: () => db.close(),
  };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const events = Array.from({ length: EVENTS }, (_, i) => sampleEvent(i));
  let round = 0;
  const fresh = () => join(dir, `db-${round++}.sqlite`);
  try {
    // Appends: each sample writes EVENTS events into a fresh file, one stream per 16 events.
    const single = await interleaved(ROUNDS, {
      raw: () => {
        const raw = rawStore(fresh());
        events.forEach((e, i) => raw.appendOne(`run-${i >> 4}`, e));
        raw.close();
      },
      gatehouse: async () => {
        const store = createSqliteEventStore({ path: fresh() });
        for (let i = 0; i < EVENTS; i++) await store.append(`run-${i >> 4}`, [events[i] as EventToAppend]);
        await store.close();
      },
    });
    const batched = await interleaved(ROUNDS, {
      raw: () => {
        const raw = rawStore(fresh());
        for (let b = 0; b < EVENTS / BATCH; b++) raw.appendBatch(`run-${b}`, events.slice(b * BATCH, (b + 1) * BATCH));
        raw.close();
      },
      gatehouse: async () => {
        const store = createSqliteEventStore({ path: fresh() });
        for (let b = 0; b < EVENTS / BATCH; b++) await store.append(`run-${b}`, events.slice(b * BATCH, (b + 1) * BATCH));
        await store.close();
      },
    });

    // Reads: one file of EVENTS events, read whole (readAll) and through a subscription.
    const path = fresh();
    const store: EventStore = createSqliteEventStore({ path });
    for (let b = 0; b < EVENTS / BATCH; b++) await store.append(`run-${b}`, events.slice(b * BATCH, (b + 1) * BATCH));
    const raw = rawStore(path);
    const readAll = await interleaved(ROUNDS, {
      raw: () => raw.readAll(),
      gatehouse: () => store.readAll(),
    });
    const catchUp = await interleaved(ROUNDS, {
      raw: () => raw.catchUp(),
      gatehouse: async () => {
        const sub = store.subscribeToAll();
        let n = 0;
        for await (const _ of sub) if (++n === EVENTS) break;
      },
    });
    raw.close();
    await store.close();

    const row = (name: string, target: string, m: Record<string, number>) => {
      const rawRate = (EVENTS / (m.raw as number)) * 1000;
      const ours = (EVENTS / (m.gatehouse as number)) * 1000;
      return {
        operation: name,
        'raw events/s': Math.round(rawRate),
        'gatehouse events/s': Math.round(ours),
        'ratio (median)': `${Math.round((ours / rawRate) * 100)} %`,
        target,
      };
    };
    printTable(`event store: SQLite adapter vs raw better-sqlite3 (${EVENTS.toLocaleString('en-US')} events, median of ${ROUNDS})`, [
      row('append, 1 event per call', '≥ 60 %', single),
      row(`append, ${BATCH} events per call`, '≥ 70 %', batched),
      row('readAll with parse', '≥ 60 %', readAll),
      row('subscription catch-up', '-', catchUp),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
