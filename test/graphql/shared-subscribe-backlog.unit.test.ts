import { buildSchema, type ExecutionArgs, parse } from 'graphql';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { SOCKET_BACKLOG_BYTES, sharedSubscribe } from '../../src/graphql/http/shared-subscribe.js';
import { markSharedPayload } from '../../src/graphql/live/shared-feeds.js';

/** A socket that records what it is sent and answers each write when the test says so. */
function fakeSocket() {
  const sent: Array<{ data: Buffer; binary: boolean | undefined }> = [];
  const pending: Array<() => void> = [];
  const socket = {
    readyState: 1,
    bufferedAmount: 0,
    send(data: Buffer, options: { binary?: boolean }, cb?: (error?: Error) => void) {
      sent.push({ data, binary: options.binary });
      if (cb) pending.push(() => cb());
    },
  };
  return { socket, sent, pending };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('shared subscription writes', () => {
  it('hands each message to the socket and moves on; waits for the write only while the socket holds 64 KiB unsent', async () => {
    const schema = buildSchema('type Query { x: Int } type Subscription { tick: Int }');
    const { socket, sent, pending } = fakeSocket();
    // Events the test releases one batch at a time; between batches the loop waits on the source.
    const queue: number[] = [];
    let wake: (() => void) | undefined;
    const push = (...ticks: number[]) => { queue.push(...ticks); wake?.(); };
    const source = (async function* () {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => { wake = r; });
        yield markSharedPayload({ tick: queue.shift() as number });
      }
    })();
    const context = {};
    const document = parse('subscription { tick }');
    const subscribe = sharedSubscribe({
      operations: new WeakMap([[context, 'subscription { tick }']]),
      sinks: new WeakMap([[context, { socket: socket as unknown as WebSocket, id: 'a' }]]),
      present: (result) => result,
    });
    const args: ExecutionArgs = { schema, document, contextValue: context, subscribeFieldResolver: () => source };
    const iterator = (await subscribe(args)) as AsyncIterableIterator<unknown>;
    const running = iterator.next(); // the loop writes to the socket itself and never yields here

    // Not backed up: three messages go out with no write answered.
    push(1, 2, 3);
    await settle();
    expect(sent.map((m) => m.data.toString())).toEqual([1, 2, 3].map((t) => `{"id":"a","type":"next","payload":{"data":{"tick":${t}}}}`));
    expect(sent.every((m) => m.binary === false)).toBe(true);
    expect(pending).toHaveLength(0);

    // Backed up: the next message waits for its write, and nothing more is taken meanwhile.
    socket.bufferedAmount = SOCKET_BACKLOG_BYTES;
    push(4, 5);
    await settle();
    await settle();
    expect(sent).toHaveLength(4);
    expect(pending).toHaveLength(1);
    socket.bufferedAmount = 0;
    pending.shift()?.();
    await settle();
    expect(sent).toHaveLength(5);

    // The loop is waiting on the source: its return() is answered once the source yields again.
    socket.readyState = 3;
    const closed = iterator.return?.();
    push(6);
    await closed;
    await running;
  });
});
