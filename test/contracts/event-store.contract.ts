import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CorruptEventError, DomainError, ValidationError } from '../../src/domain/errors.js';
import { EventCatalog, runEventDefinitions } from '../../src/domain/events/index.js';
import {
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from '../../src/domain/ports/event-store.js';
import { meta, runStarted, stepFailed, stepSucceeded } from '../support/events.js';
import { type StoreFactory, type StoreHarness, settledWithin, take } from '../support/store-harness.js';

/**
 * The behaviour every EventStore adapter must show. Each adapter's test file calls this with a
 * factory; nothing here knows which adapter it runs on.
 */
export function describeEventStoreContract(name: string, factory: StoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: EventStore;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    const allIds = async (s: EventStore = store) => (await s.readAll()).map((e) => e.id);

    /** Runs `action`, expects it to throw `kind`, and proves the log did not change. */
    async function expectRefusedAndNothingAppended(
      action: () => Promise<unknown>,
      kind: abstract new (...args: never[]) => Error,
    ): Promise<Error> {
      const before = await allIds();
      const error = await action().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(kind);
      expect(await allIds()).toEqual(before);
      return error as Error;
    }

    describe('append and read back', () => {
      it('round-trips data and metadata exactly, with revisions, positions and ids', async () => {
        const id = randomUUID();
        const hash = 'a'.repeat(64);
        const started = runStarted('rt');
        const succeeded: EventToAppend = {
          id,
          type: 'ToolCallSucceeded',
          data: { stepId: 'deploy', attempt: 2, output: { nested: { list: [1, 'två', null, true] }, emoji: '🚀' }, durationMs: 12.5 },
          metadata: { correlationId: 'rt', causationId: 'cmd-1', actor: 'system:engine', hash },
        };
        const result = await store.append('run-rt', [started, succeeded], { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(1);

        const events = await store.readStream('run-rt');
        expect(events).toHaveLength(2);
        const [first, second] = events as [RecordedEvent, RecordedEvent];
        expect(first).toMatchObject({ streamId: 'run-rt', revision: 0, type: 'RunStarted' });
        // Defaults of the schema are applied on the way in and stored.
        expect(first.data).toEqual({ ...(started.data as object), budget: { totalCalls: 10, perDomain: {}, perTool: {}, onExceed: 'block' } });
        expect(first.metadata).toEqual({ correlationId: 'rt', actor: 'user:alice', schemaVersion: 1 });
        expect(second).toMatchObject({ id, streamId: 'run-rt', revision: 1, type: 'ToolCallSucceeded' });
        expect(second.data).toEqual(succeeded.data);
        expect(second.metadata).toEqual({ correlationId: 'rt', causationId: 'cmd-1', actor: 'system:engine', hash, schemaVersion: 1 });
        expect(second.recordedAt).toBeInstanceOf(Date);
        expect(Math.abs(second.recordedAt.getTime() - Date.now())).toBeLessThan(60_000);
        expect(result.position).toBe(second.position);
        expect(store.comparePositions(first.position, second.position)).toBeLessThan(0);
        expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(first.id).not.toBe(second.id);

        const all = await store.readAll();
        expect(all.map((e) => e.id)).toEqual([first.id, id]);
        expect(await store.headPosition()).toBe(second.position);
      });

      it('reads a stream that does not exist as an empty list, on every adapter', async () => {
        expect(await store.readStream('run-missing')).toEqual([]);
        expect(await store.readStream('run-missing', { direction: 'backwards' })).toEqual([]);
        expect(await store.headPosition()).toBeUndefined();
        expect(await store.readAll()).toEqual([]);
      });
    });

    describe('expectedRevision', () => {
      it('no_stream: succeeds on a new stream, conflicts on an existing one', async () => {
        await store.append('run-a', [runStarted('a')], { expectedRevision: 'no_stream' });
        const error = (await expectRefusedAndNothingAppended(
          () => store.append('run-a', [stepSucceeded(1, 'a')], { expectedRevision: 'no_stream' }),
          WrongExpectedRevisionError,
        )) as WrongExpectedRevisionError;
        expect(error).toMatchObject({ streamId: 'run-a', expected: 'no_stream', actual: 0, code: 'CONCURRENCY_CONFLICT' });
      });

      it('stream_exists: conflicts on a new stream, succeeds on an existing one', async () => {
        const error = (await expectRefusedAndNothingAppended(
          () => store.append('run-b', [runStarted('b')], { expectedRevision: 'stream_exists' }),
          WrongExpectedRevisionError,
        )) as WrongExpectedRevisionError;
        expect(error).toMatchObject({ expected: 'stream_exists', actual: 'no_stream' });
        await store.append('run-b', [runStarted('b')]);
        const ok = await store.append('run-b', [stepSucceeded(1, 'b')], { expectedRevision: 'stream_exists' });
        expect(ok.nextExpectedRevision).toBe(1);
      });

      it('an exact revision: succeeds when it matches, conflicts when lower, higher or missing', async () => {
        const missing = (await expectRefusedAndNothingAppended(
          () => store.append('run-c', [runStarted('c')], { expectedRevision: 0 }),
          WrongExpectedRevisionError,
        )) as WrongExpectedRevisionError;
        expect(missing).toMatchObject({ expected: 0, actual: 'no_stream' });

        await store.append('run-c', [runStarted('c'), stepSucceeded(1, 'c')]);
        const next = await store.append('run-c', [stepSucceeded(2, 'c')], { expectedRevision: 1 });
        expect(next.nextExpectedRevision).toBe(2);
        for (const expected of [0, 1, 3, 99]) {
          const error = (await expectRefusedAndNothingAppended(
            () => store.append('run-c', [stepSucceeded(3, 'c')], { expectedRevision: expected }),
            WrongExpectedRevisionError,
          )) as WrongExpectedRevisionError;
          expect(error).toMatchObject({ streamId: 'run-c', expected, actual: 2 });
        }
        expect((await store.readStream('run-c')).map((e) => e.revision)).toEqual([0, 1, 2]);
      });

      it('any: never conflicts, and is the default', async () => {
        await store.append('run-d', [runStarted('d')], { expectedRevision: 'any' });
        await store.append('run-d', [stepSucceeded(1, 'd')]);
        const r = await store.append('run-d', [stepSucceeded(2, 'd')], { expectedRevision: 'any' });
        expect(r.nextExpectedRevision).toBe(2);
      });

      it('50 concurrent appends expecting the same revision: exactly one wins, nothing partial', async () => {
        await store.append('run-race', [runStarted('race')]);
        const batches = Array.from({ length: 50 }, (_, i) => [stepSucceeded(i, 'race'), stepSucceeded(i + 100, 'race'), stepFailed(i, 'race')]);
        const results = await Promise.allSettled(
          batches.map((batch) => store.append('run-race', batch, { expectedRevision: 0 })),
        );
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(49);
        for (const r of lost) {
          expect((r as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
          expect((r as PromiseRejectedResult).reason).toMatchObject({ expected: 0, actual: 3 });
        }
        const events = await store.readStream('run-race');
        expect(events.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
        const winner = batches[won[0] as number] as EventToAppend[];
        expect(events.slice(1).map((e) => e.data)).toEqual(
          winner.map((e) => e.data).map((d) => expect.objectContaining(d as object)),
        );
        expect(await store.readAll()).toHaveLength(4);
      });

      it('a batch is atomic: one invalid event in it writes none of it', async () => {
        await store.append('run-e', [runStarted('e')]);
        const bad = { type: 'ToolCallSucceeded', data: { stepId: 's2', attempt: 0 }, metadata: meta('e') };
        await expectRefusedAndNothingAppended(
          () => store.append('run-e', [stepSucceeded(1, 'e'), bad, stepSucceeded(3, 'e')]),
          ValidationError,
        );
        expect(await store.readStream('run-e')).toHaveLength(1);
      });
    });

    describe('reading', () => {
      beforeEach(async () => {
        await store.append('run-x', [runStarted('x'), ...Array.from({ length: 9 }, (_, i) => stepSucceeded(i + 1, 'x'))]);
      });

      it('reads a stream forwards and backwards, from a revision, with a max count', async () => {
        const revs = async (o: Parameters<EventStore['readStream']>[1]) =>
          (await store.readStream('run-x', o)).map((e) => e.revision);
        expect(await revs({})).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(await revs({ fromRevision: 7 })).toEqual([7, 8, 9]);
        expect(await revs({ fromRevision: 2, maxCount: 3 })).toEqual([2, 3, 4]);
        expect(await revs({ direction: 'backwards' })).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        expect(await revs({ direction: 'backwards', maxCount: 1 })).toEqual([9]);
        expect(await revs({ direction: 'backwards', fromRevision: 3 })).toEqual([3, 2, 1, 0]);
        expect(await revs({ fromRevision: 10 })).toEqual([]);
        expect(await revs({ maxCount: 0 })).toEqual([]);
      });

      it('refuses a negative or fractional revision and count', async () => {
        await expect(store.readStream('run-x', { fromRevision: -1 })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.readStream('run-x', { maxCount: 1.5 })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.readAll({ maxCount: -2 })).rejects.toBeInstanceOf(ValidationError);
      });

      it('orders $all by commit across streams, pages with an exclusive cursor, both directions', async () => {
        const order: string[] = [];
        for (let i = 0; i < 12; i++) {
          const stream = `run-s${i % 3}`;
          const event = i < 3 ? runStarted(`s${i}`) : stepSucceeded(i, `s${i % 3}`);
          await store.append(stream, [event]);
          order.push(`${stream}:${(event.data as { stepId?: string }).stepId ?? 'start'}`);
        }
        const all = await store.readAll();
        expect(all).toHaveLength(22);
        const tail = all.slice(10).map((e) => `${e.streamId}:${(e.data as { stepId?: string }).stepId ?? 'start'}`);
        expect(tail).toEqual(order);
        for (let i = 1; i < all.length; i++) {
          expect(store.comparePositions((all[i - 1] as RecordedEvent).position, (all[i] as RecordedEvent).position)).toBeLessThan(0);
        }

        const paged: RecordedEvent[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.readAll({ after, maxCount: 5 });
          if (page.length === 0) break;
          paged.push(...page);
          after = (page[page.length - 1] as RecordedEvent).position;
        }
        expect(paged.map((e) => e.id)).toEqual(all.map((e) => e.id));

        const backwards = await store.readAll({ direction: 'backwards' });
        expect(backwards.map((e) => e.id)).toEqual([...all].reverse().map((e) => e.id));
        const before = await store.readAll({ direction: 'backwards', after: (all[3] as RecordedEvent).position, maxCount: 2 });
        expect(before.map((e) => e.id)).toEqual([all[2]?.id, all[1]?.id]);
        expect(await store.headPosition()).toBe(all[all.length - 1]?.position);
      });

      it('filters $all by stream prefix, by event type and by both', async () => {
        await store.append('run-y', [runStarted('y'), stepFailed(1, 'y')]);
        await store.append('audit-1', [stepFailed(2, 'z')]);
        const ids = async (filter: Parameters<EventStore['readAll']>[0]) =>
          (await store.readAll(filter)).map((e) => `${e.streamId}/${e.revision}`);
        expect(await ids({ filter: { streamPrefix: ['audit-'] } })).toEqual(['audit-1/0']);
        expect(await ids({ filter: { streamPrefix: ['run-y', 'audit'] } })).toEqual(['run-y/0', 'run-y/1', 'audit-1/0']);
        expect(await ids({ filter: { eventTypes: ['ToolCallFailed'] } })).toEqual(['run-y/1', 'audit-1/0']);
        expect(await ids({ filter: { eventTypes: ['RunStarted'], streamPrefix: ['run-'] } })).toEqual(['run-x/0', 'run-y/0']);
        expect(await ids({ filter: { streamPrefix: ['RUN-'] } })).toEqual([]);
        expect(await ids({ filter: { eventTypes: ['ToolCallFailed'] }, direction: 'backwards', maxCount: 1 })).toEqual(['audit-1/0']);
      });

      it('refuses a cursor it did not issue', async () => {
        for (const bad of ['abc', '-1', '1.5', '']) {
          await expect(store.readAll({ after: bad })).rejects.toBeInstanceOf(ValidationError);
        }
      });
    });

    describe('subscriptions', () => {
      it('subscribeToAll catches up, then goes live, honouring the filter and the cursor', async () => {
        await store.append('run-1', [runStarted('1'), stepSucceeded(1, '1')]);
        await store.append('other-1', [stepSucceeded(1, 'o')]);
        const sub = store.subscribeToAll({ filter: { streamPrefix: ['run-'] } });
        const caughtUp = await take(sub, 2);
        expect(caughtUp.map((e) => e.revision)).toEqual([0, 1]);
        const next = sub.next();
        await store.append('other-1', [stepSucceeded(2, 'o')]);
        await store.append('run-2', [runStarted('2')]);
        const live = await next;
        expect(live.value).toMatchObject({ streamId: 'run-2', revision: 0 });
        await sub.close();

        const fromCursor = store.subscribeToAll({ after: caughtUp[0]?.position });
        const rest = await take(fromCursor, 4);
        expect(rest.map((e) => `${e.streamId}/${e.revision}`)).toEqual(['run-1/1', 'other-1/0', 'other-1/1', 'run-2/0']);
        await fromCursor.close();
      });

      it("subscribeToAll from 'end' sees only what is appended after it", async () => {
        await store.append('run-old', [runStarted('old')]);
        const sub = store.subscribeToAll({ after: 'end' });
        const next = sub.next();
        expect(await settledWithin(next, 50)).toBe('pending');
        await store.append('run-new', [runStarted('new')]);
        expect((await next).value).toMatchObject({ streamId: 'run-new' });
        await sub.close();
      });

      it('subscribeToStream delivers only its stream, from a revision, then live', async () => {
        await store.append('run-p', [runStarted('p'), stepSucceeded(1, 'p'), stepSucceeded(2, 'p')]);
        await store.append('run-q', [runStarted('q')]);
        const sub = store.subscribeToStream('run-p', { afterRevision: 0 });
        expect((await take(sub, 2)).map((e) => e.revision)).toEqual([1, 2]);
        const next = sub.next();
        await store.append('run-q', [stepSucceeded(1, 'q')]);
        await store.append('run-p', [stepSucceeded(3, 'p')]);
        expect((await next).value).toMatchObject({ streamId: 'run-p', revision: 3 });
        await sub.close();

        const fromStart = store.subscribeToStream('run-p');
        expect((await take(fromStart, 4)).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
        await fromStart.close();

        const fromEnd = store.subscribeToStream('run-p', { afterRevision: 'end' });
        const pending = fromEnd.next();
        expect(await settledWithin(pending, 50)).toBe('pending');
        await store.append('run-p', [stepSucceeded(4, 'p')]);
        expect((await pending).value).toMatchObject({ revision: 4 });
        await fromEnd.close();

        const notYet = store.subscribeToStream('run-later');
        const first = notYet.next();
        await store.append('run-later', [runStarted('later')]);
        expect((await first).value).toMatchObject({ streamId: 'run-later', revision: 0 });
        await notYet.close();
      });

      it('crosses the catch-up/live seam under 10,000 concurrent appends: each event once, in order', async () => {
        const total = 10_000;
        const writers = 8;
        const perWriter = total / writers;
        const appended: string[] = [];
        let started = 0;
        const writing = Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < perWriter; i++) {
              const event = stepSucceeded(i, `w${w}`, { id: randomUUID() });
              appended.push(event.id as string);
              started++;
              await store.append(`run-w${w}`, [event]);
            }
          }),
        );
        // Open the subscription while the writers are mid-way, so catch-up and live both happen.
        while (started < total / 4) await new Promise((r) => setImmediate(r));
        const sub = store.subscribeToAll();
        const received = await take(sub, total, 120_000);
        await writing;
        await sub.close();

        expect(received).toHaveLength(total);
        expect(new Set(received.map((e) => e.id)).size).toBe(total);
        expect(new Set(received.map((e) => e.id))).toEqual(new Set(appended));
        for (let i = 1; i < received.length; i++) {
          expect(store.comparePositions((received[i - 1] as RecordedEvent).position, (received[i] as RecordedEvent).position)).toBeLessThan(0);
        }
        expect(received.map((e) => e.id)).toEqual((await store.readAll()).map((e) => e.id));
      }, 180_000);

      it('close() releases a subscription, also while next() is waiting', async () => {
        const sub = store.subscribeToAll();
        const waiting = sub.next();
        expect(await settledWithin(waiting, 30)).toBe('pending');
        await sub.close();
        expect(await waiting).toEqual({ done: true, value: undefined });
        expect(await sub.next()).toEqual({ done: true, value: undefined });
        await store.append('run-after', [runStarted('after')]);
        expect(await sub.next()).toEqual({ done: true, value: undefined });
      });

      it('breaking out of for-await releases the subscription', async () => {
        await store.append('run-f', [runStarted('f'), stepSucceeded(1, 'f'), stepSucceeded(2, 'f')]);
        const sub = store.subscribeToStream('run-f');
        const seen: number[] = [];
        for await (const event of sub) {
          seen.push(event.revision);
          if (seen.length === 2) break;
        }
        expect(seen).toEqual([0, 1]);
        expect(await sub.next()).toEqual({ done: true, value: undefined });
      });

      it('closing the store ends its open subscriptions', async () => {
        const sub = store.subscribeToAll();
        const waiting = sub.next();
        await store.close();
        expect(await waiting).toEqual({ done: true, value: undefined });
        harness = { ...harness, cleanup: async () => {} };
        await harness.store.close();
      });
    });

    describe('bad input: a typed error and nothing appended', () => {
      beforeEach(async () => {
        await store.append('run-ok', [runStarted('ok')]);
      });

      it.each([
        ['an empty stream id', ''],
        ['an over-long stream id', `run-${'x'.repeat(300)}`],
        ['a system stream id', '$all'],
        ['white space in a stream id', 'run 1'],
        ['a control character in a stream id', 'run-\u0000'],
      ])('%s', async (_, streamId) => {
        const error = await expectRefusedAndNothingAppended(() => store.append(streamId, [runStarted('z')]), ValidationError);
        expect((error as DomainError).code).toBe('VALIDATION');
      });

      it('an event that fails its schema names the event, the field and the problem', async () => {
        const error = await expectRefusedAndNothingAppended(
          () => store.append('run-ok', [stepSucceeded(1, 'ok'), { type: 'ToolCallFailed', data: { stepId: 's1', attempt: 1, failureMode: 'OOPS' }, metadata: meta('ok') }]),
          ValidationError,
        );
        expect(error.message).toMatch(/event #1/);
        expect(error.message).toMatch(/failureMode/);
      });

      it('an unknown event type', async () => {
        const error = await expectRefusedAndNothingAppended(
          () => store.append('run-ok', [{ type: 'RunExploded', data: {}, metadata: meta('ok') }]),
          ValidationError,
        );
        expect(error.message).toContain('unknown event type "RunExploded"');
      });

      it('invalid metadata, a bad id, a wrong schemaVersion, no events, a bad expectedRevision', async () => {
        const cases: Array<() => Promise<unknown>> = [
          () => store.append('run-ok', [{ ...stepSucceeded(1, 'ok'), metadata: { correlationId: 'ok' } as never }]),
          () => store.append('run-ok', [{ ...stepSucceeded(1, 'ok'), metadata: { ...meta('ok'), extra: 1 } as never }]),
          () => store.append('run-ok', [{ ...stepSucceeded(1, 'ok'), id: 'not-a-uuid' }]),
          () => store.append('run-ok', [{ ...stepSucceeded(1, 'ok'), metadata: { ...meta('ok'), schemaVersion: 2 } }]),
          () => store.append('run-ok', []),
          () => store.append('run-ok', [stepSucceeded(1, 'ok')], { expectedRevision: -1 }),
          () => store.append('run-ok', [stepSucceeded(1, 'ok')], { expectedRevision: 'latest' as never }),
        ];
        for (const action of cases) await expectRefusedAndNothingAppended(action, ValidationError);
      });

      it('an event over the size limit (1 MiB by default)', async () => {
        const big = { ...stepSucceeded(1, 'ok'), data: { stepId: 's1', attempt: 1, output: 'x'.repeat(1024 * 1024), durationMs: 1 } };
        const error = await expectRefusedAndNothingAppended(() => store.append('run-ok', [big]), ValidationError);
        expect(error.message).toMatch(/over the limit of 1048576/);
        const fits = { ...big, data: { ...big.data, output: 'x'.repeat(1024 * 1024 - 400) } };
        await store.append('run-ok', [fits]);
        expect(((await store.readStream('run-ok'))[1]?.data as { output: string }).output).toHaveLength(1024 * 1024 - 400);
      });
    });

    describe('a configurable size limit', () => {
      it('refuses what is over the configured limit and multi-byte text counts in bytes', async () => {
        const small = await factory({ maxEventBytes: 300 });
        try {
          const text = (s: string) => ({ ...stepSucceeded(1, 's'), data: { stepId: 's1', attempt: 1, output: s, durationMs: 1 } });
          await small.store.append('run-s', [text('a'.repeat(100))]);
          await expect(small.store.append('run-s', [text('€'.repeat(100))])).rejects.toBeInstanceOf(ValidationError);
          expect(await small.store.readAll()).toHaveLength(1);
        } finally {
          await small.cleanup();
        }
      });
    });

    describe('stored data and changed code', () => {
      const V2 = z.object({ stepId: z.string(), attempt: z.number(), output: z.unknown(), durationMs: z.number(), workerLatencyMs: z.number() });

      it('upcasts events written with an older schemaVersion', async (ctx) => {
        if (!harness.reopen) return ctx.skip('this adapter keeps its log in one instance');
        await store.append('run-u', [stepSucceeded(1, 'u')]);
        const v2 = new EventCatalog(
          { ...runEventDefinitions, ToolCallSucceeded: { stage: 'EXECUTE', schema: V2, version: 2 } },
          [{ type: 'ToolCallSucceeded', fromVersion: 1, up: (d) => ({ ...(d as object), workerLatencyMs: 0 }) }],
        );
        const reopened = await harness.reopen({ catalog: v2 });
        try {
          const [event] = await reopened.readStream('run-u');
          expect(event?.data).toEqual({ stepId: 's1', attempt: 1, output: { n: 1 }, durationMs: 1, workerLatencyMs: 0 });
          expect(event?.metadata.schemaVersion).toBe(1);
        } finally {
          await reopened.close();
        }
      });

      it('a stored event that fails its schema raises an error naming stream and revision', async (ctx) => {
        if (!harness.reopen) return ctx.skip('this adapter keeps its log in one instance');
        await store.append('run-v', [runStarted('v'), stepSucceeded(1, 'v')]);
        const stricter = new EventCatalog({
          ...runEventDefinitions,
          ToolCallSucceeded: { stage: 'EXECUTE', schema: V2, version: 1 },
        });
        const reopened = await harness.reopen({ catalog: stricter });
        try {
          const error = await reopened.readStream('run-v').catch((e: unknown) => e);
          expect(error).toBeInstanceOf(CorruptEventError);
          expect(error).toMatchObject({ streamId: 'run-v', revision: 1, code: 'CORRUPT_EVENT' });
          expect((error as Error).message).toMatch(/run-v@1.*workerLatencyMs/);
          const sub = reopened.subscribeToAll();
          await expect(take(sub, 2)).rejects.toBeInstanceOf(CorruptEventError);
        } finally {
          await reopened.close();
        }
      });
    });
  });
}
