import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventCodec } from '../../src/adapters/eventstore/shared/codec.js';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import type { RecordedEvent } from '../../src/domain/ports/event-store.js';
import { builtFile } from '../support/built.js';
import { runStarted, stepSucceeded } from '../support/events.js';
import { take } from '../support/store-harness.js';
import { tempFileEachTest } from '../support/temp-each.js';

/** The followers of one store share each decoded event (src/adapters/eventstore/sqlite/recent-events.ts). */
describe('SQLite event store: one decode of each commit for all followers', () => {
  let path: string;
  const children: ChildProcess[] = [];
  tempFileEachTest((p) => { path = p; });
  afterEach(() => {
    vi.restoreAllMocks();
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  const foreignWriter = (count: number) => {
    const child = spawn(process.execPath, [builtFile('test/fixtures/sqlite-live-writer.ts'), path, String(count)], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return new Promise<number | null>((resolve) => child.on('exit', resolve));
  };
  const countDecodes = () => {
    const decodes = new Map<string, number>();
    const original = EventCodec.prototype.decodeFields;
    vi.spyOn(EventCodec.prototype, 'decodeFields').mockImplementation(function (this: EventCodec, ...args) {
      decodes.set(args[3], (decodes.get(args[3]) ?? 0) + 1);
      return original.apply(this, args);
    });
    return decodes;
  };

  it('a follower that tries to change a shared event gets an error and the others still see it as stored', async () => {
    const store = createSqliteEventStore({ path });
    const a = store.subscribeToAll({ after: 'end' });
    const b = store.subscribeToAll({ after: 'end', filter: { streamPrefix: ['run-'] } });
    await store.append('run-m', [runStarted('m'), stepSucceeded(1, 'm')]);
    const [first] = (await take(a, 2)) as [RecordedEvent<string, Record<string, unknown>>];
    expect(() => { first.data.goal = 'changed'; }).toThrow(TypeError);
    expect(() => { (first.metadata as { correlationId: string }).correlationId = 'other'; }).toThrow(TypeError);
    expect(() => { (first as { type: string }).type = 'RunFailed'; }).toThrow(TypeError);
    const [seen] = (await take(b, 2)) as [RecordedEvent<string, Record<string, unknown>>];
    expect(seen.type).toBe('RunStarted');
    expect(seen.data.goal).toBe((runStarted('m').data as { goal: string }).goal);
    expect(seen.metadata.correlationId).toBe('m');
    await store.close();
  });

  it("another process's commits are decoded once for two live followers, and own commits once too", async () => {
    const store = createSqliteEventStore({ path, pollIntervalMs: 5 });
    await store.append('run-local', [runStarted('local')]);
    const decodes = countDecodes();
    const all = store.subscribeToAll({ after: 'end' });
    const foreign = store.subscribeToAll({ after: 'end', filter: { streamPrefix: ['run-foreign'] } });
    const exited = foreignWriter(25);
    await store.append('run-local', [stepSucceeded(1, 'local'), stepSucceeded(2, 'local')], { expectedRevision: 0 });
    const [fromAll, fromForeign] = await Promise.all([take(all, 27), take(foreign, 25)]);
    expect(await exited).toBe(0);
    expect(fromForeign.map((e) => e.position)).toEqual(fromAll.filter((e) => e.streamId === 'run-foreign').map((e) => e.position));
    const perEvent = fromAll.map((e) => decodes.get(e.position) ?? 0);
    expect(perEvent, `decodes per event ${perEvent.join(',')}`).toEqual(fromAll.map(() => 1));
    await store.close();
  });

  it('with a window smaller than the traffic, followers live, lagging and filtered each get every event once, in order, across the catch-up/live seam', async () => {
    const store = createSqliteEventStore({ path, pollIntervalMs: 5, recentEvents: 4 });
    for (let i = 0; i < 10; i++) await store.append('run-old', [stepSucceeded(i, 'old')]);
    const live = store.subscribeToAll({ after: 'end' });
    const fromStart = store.subscribeToAll();
    const foreignOnly = store.subscribeToAll({ filter: { streamPrefix: ['run-foreign'] } });
    const exited = foreignWriter(25);
    for (let i = 0; i < 20; i++) await store.append('run-local', [stepSucceeded(i, 'local')]);
    // The live follower reads as it goes; the others only after everything is written (far behind the window).
    const liveEvents = await take(live, 45);
    expect(await exited).toBe(0);
    const truth = await store.readAll();
    expect(truth).toHaveLength(55);
    const key = (e: RecordedEvent) => `${e.position} ${e.streamId}/${e.revision} ${e.type}`;
    expect(liveEvents.map(key)).toEqual(truth.slice(10).map(key));
    expect((await take(fromStart, 55)).map(key)).toEqual(truth.map(key));
    expect((await take(foreignOnly, 25)).map(key)).toEqual(truth.filter((e) => e.streamId === 'run-foreign').map(key));
    // Nothing more is delivered: no duplicate after the seam.
    await store.append('run-end', [runStarted('end')]);
    expect((await take(fromStart, 1)).map((e) => e.streamId)).toEqual(['run-end']);
    expect((await take(live, 1)).map((e) => e.streamId)).toEqual(['run-end']);
    await store.close();
  });
});
