import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { CorruptEventError } from '../../src/domain/errors.js';
import { type EventStore, WrongExpectedRevisionError } from '../../src/domain/ports/event-store.js';
import { describeEventStoreContract } from '../contracts/event-store.contract.js';
import { builtFile } from '../support/built.js';
import { runStarted, stepSucceeded } from '../support/events.js';
import { take } from '../support/store-harness.js';
import { tempDir } from '../support/temp.js';
import { tempFileEachTest } from '../support/temp-each.js';

describeEventStoreContract('sqlite', async (options) => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'events.sqlite');
  const store = createSqliteEventStore({ path, ...options });
  const reopened: EventStore[] = [];
  return {
    store,
    reopen: async (more) => {
      const s = createSqliteEventStore({ path, ...options, ...more });
      reopened.push(s);
      return s;
    },
    cleanup: async () => {
      await Promise.all([store, ...reopened].map((s) => s.close()));
      tmp.remove();
    },
  };
});

describe('SQLite event store: the file', () => {
  let path: string;
  tempFileEachTest((p) => { path = p; });

  it('gives back the same log after close and reopen', async () => {
    const store = createSqliteEventStore({ path });
    await store.append('run-a', [runStarted('a'), stepSucceeded(1, 'a')]);
    await store.append('run-b', [runStarted('b')]);
    const before = await store.readAll();
    await store.close();

    const again = createSqliteEventStore({ path, durability: 'power' });
    expect(await again.readAll()).toEqual(before);
    const next = await again.append('run-a', [stepSucceeded(2, 'a')], { expectedRevision: 1 });
    expect(next.nextExpectedRevision).toBe(2);
    expect(again.comparePositions(before[2]?.position as string, next.position)).toBeLessThan(0);
    await again.close();
  });

  it('sets the pragmas that its durability promise rests on', async () => {
    for (const [durability, synchronous] of [
      ['process', 'NORMAL'],
      ['power', 'FULL'],
    ] as const) {
      const store = createSqliteEventStore({ path, durability });
      expect(store.settings()).toEqual({ path, journalMode: 'wal', synchronous });
      await store.close();
    }
    const byDefault = createSqliteEventStore({ path });
    expect(byDefault.settings().synchronous).toBe('NORMAL');
    await byDefault.close();
  });

  it('names the stream and revision of a row tampered with on disk', async () => {
    const store = createSqliteEventStore({ path });
    await store.append('run-t', [runStarted('t'), stepSucceeded(1, 't'), stepSucceeded(2, 't')]);
    const raw = new Database(path);
    raw.prepare("UPDATE events SET data = '{\"stepId\":' WHERE stream_id = 'run-t' AND revision = 2").run();
    raw.close();
    const error = await store.readStream('run-t').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptEventError);
    expect(error).toMatchObject({ streamId: 'run-t', revision: 2 });
    expect((error as Error).message).toContain('data is not JSON');
    await store.close();
  });

  it('refuses a file written by a newer layout, and opens nothing', async () => {
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => createSqliteEventStore({ path })).toThrow(/layout v99/);
  });
});

describe('SQLite event store: several writers on one file', () => {
  let path: string;
  let dir: string;
  const children: ChildProcess[] = [];
  tempFileEachTest((p, d) => { path = p; dir = d; });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  it('two connections in one process: exactly one of two racing appends wins', async () => {
    const a = createSqliteEventStore({ path });
    const b = createSqliteEventStore({ path });
    await a.append('run-r', [runStarted('r')]);
    for (let round = 0; round < 20; round++) {
      const results = await Promise.allSettled([
        a.append('run-r', [stepSucceeded(round, 'r')], { expectedRevision: round }),
        b.append('run-r', [stepSucceeded(round + 1000, 'r')], { expectedRevision: round }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(WrongExpectedRevisionError);
    }
    expect((await b.readStream('run-r')).map((e) => e.revision)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    await a.close();
    await b.close();
  });

  it('a live subscriber sees appends made by another process', async () => {
    const store = createSqliteEventStore({ path, pollIntervalMs: 10 });
    await store.append('run-local', [runStarted('local')]);
    const sub = store.subscribeToAll({ filter: { streamPrefix: ['run-foreign'] } });
    const child = spawn(process.execPath, [builtFile('test/fixtures/sqlite-live-writer.ts'), path, '25'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    const events = await take(sub, 25, 20_000);
    expect(events.map((e) => (e.data as { stepId: string }).stepId)).toEqual(Array.from({ length: 25 }, (_, i) => `s${i}`));
    await sub.close();
    await store.close();
  });

  it('opening waits for a lock another process holds on a fresh file instead of failing', async () => {
    // The raw connection holds a read lock on a not-yet-WAL file: switching it to WAL needs that
    // lock gone. The store in the child must wait for it (busy timeout), not die with SQLITE_BUSY.
    const holder = new Database(path);
    holder.exec('CREATE TABLE hold (x); INSERT INTO hold VALUES (1)');
    holder.exec('BEGIN');
    holder.prepare('SELECT x FROM hold').get();
    const child = spawn(process.execPath, [builtFile('test/fixtures/sqlite-live-writer.ts'), path, '1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 400));
    holder.exec('COMMIT');
    holder.close();
    expect({ code: await exited, stderr }).toEqual({ code: 0, stderr: '' });
    const store = createSqliteEventStore({ path });
    expect(await store.readStream('run-foreign')).toHaveLength(1);
    await store.close();
  });

  it('processes opening one fresh file at the same moment all open it and append (no SQLITE_BUSY at start)', async () => {
    // Each round races four processes through creating the file, switching it to WAL and creating
    // the tables. Before the fix one opener in ~100 died with "database is locked".
    const rounds = 5;
    const exits: (number | null)[] = [];
    for (let round = 0; round < rounds; round++) {
      const file = join(dir, `fresh-${round}.sqlite`);
      const started = Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, [builtFile('test/fixtures/sqlite-live-writer.ts'), file, '1'], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        children.push(child);
        return new Promise<number | null>((resolve) => child.once('exit', resolve));
      });
      exits.push(...(await Promise.all(started)));
      const store = createSqliteEventStore({ path: file });
      expect(await store.readStream('run-foreign')).toHaveLength(4);
      await store.close();
    }
    expect(exits).toEqual(Array(rounds * 4).fill(0));
  }, 60_000);

  it('SIGKILL during appends loses no acknowledged append and leaves no torn event', async () => {
    const acknowledged = new Map<string, number>();
    let kills = 0;
    for (const [round, batch] of [
      [0, 1],
      [1, 7],
      [2, 1],
      [3, 25],
      [4, 3],
    ] as const) {
      const writers = ['k1', 'k2'].map((name) => {
        const child = spawn(process.execPath, [builtFile('test/fixtures/sqlite-appender.ts'), path, name, String(batch)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        let buffer = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          const lines = buffer.split('\n');
          buffer = lines.pop() ?? '';
          for (const line of lines) for (const id of line.split(',')) acknowledged.set(id, round);
        });
        return child;
      });
      // Let them write a while, then kill both mid-flight at a different moment each round.
      const target = acknowledged.size + 200 + round * 150;
      const deadline = Date.now() + 15_000;
      while (acknowledged.size < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, round * 3));
      for (const child of writers) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
        kills++;
      }
    }
    expect(kills).toBe(10);
    expect(acknowledged.size).toBeGreaterThan(1000);

    const store = createSqliteEventStore({ path });
    const all = await store.readAll(); // every row parses, or this throws CorruptEventError
    const stored = new Set(all.map((e) => e.id));
    const lost = [...acknowledged.keys()].filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    // Atomic batches: every stored batch is whole, acknowledged or not.
    const batches = new Map<string, { size: number; seen: number }>();
    for (const e of all) {
      const { batch, size } = (e.data as { output: { batch: string; size: number } }).output;
      const entry = batches.get(batch) ?? { size, seen: 0 };
      entry.seen++;
      batches.set(batch, entry);
    }
    expect([...batches.values()].filter((b) => b.seen !== b.size)).toEqual([]);
    for (const name of ['run-k1', 'run-k2']) {
      const revisions = (await store.readStream(name)).map((e) => e.revision);
      expect(revisions).toEqual(revisions.map((_, i) => i));
    }
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    await store.close();
  }, 120_000);
});
