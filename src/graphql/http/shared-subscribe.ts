import { createSourceEventStream, type ExecutionArgs, type ExecutionResult, execute } from 'graphql';
import type { WebSocket } from 'ws';
import type { GraphQLContext } from '../context.js';
import { isSharedPayload } from '../live/shared-feeds.js';

/** Where one graphql-ws subscription's messages go: its connection's socket and the client's id for it. */
export interface SubscriptionSink {
  readonly socket: WebSocket;
  readonly id: string;
}

/** What `sharedSubscribe` needs to know about each subscription, keyed by its context (one per subscription). */
export interface SharedSubscribeOptions {
  /** The operation (query, operation name, variables) as a string. */
  readonly operations: WeakMap<object, string>;
  /** The socket and id to write its shared results to. */
  readonly sinks: WeakMap<object, SubscriptionSink>;
  /** A result as it goes on the wire (errors masked): what graphql-ws's `onNext` makes of it. */
  readonly present: (result: ExecutionResult) => unknown;
}

/** One execution of one shared event for one (role, operation), and its wire form, made once. */
interface Shared {
  readonly result: ExecutionResult | Promise<ExecutionResult>;
  /** The payload and the message's closing brace, UTF-8 encoded once for every socket. */
  body?: Buffer;
}

const OPEN = 1; // WebSocket.OPEN, without importing the ws runtime here

/**
 * Bytes a socket may hold unsent before its subscriber waits for its writes to complete. Below it
 * a message is handed to the socket and the subscriber moves on (as a plain broadcast does);
 * above it the subscriber takes no next event until this one is written out, so a client that
 * reads slowly holds about this much here (its later events wait in its feed, bounded there).
 */
export const SOCKET_BACKLOG_BYTES = 64 * 1024;
/** Sent as a text frame, as graphql-ws sends it (a Buffer would otherwise go as a binary frame). */
const TEXT = { binary: false } as const;

/**
 * graphql-js's `subscribe`, except for the events that the shared live feeds hand, as one immutable
 * object, to every client of a run (`isSharedPayload`): clients whose operation is the same (query,
 * operation name, variables) and who act in the same role share one execution of that event AND
 * its serialized payload, and each such message is written straight to the client's socket
 * (`{"id":…,"type":"next","payload":…}`, the same bytes graphql-ws would send) instead of being
 * handed back to graphql-ws. What a payload shows depends only on the operation and the role
 * (resolvers see the caller through `@Authorized`: role and admin flag, never its id), so a
 * principal never receives what another role's execution produced. Per subscriber and event, what
 * is left is the socket write: graphql-ws's emit (its hook, a copy of the result, message checks
 * and a `JSON.stringify`) ran once per subscriber and was half the server's own fan-out CPU.
 * Payloads that are not shared (read-model states: runProgress, approvalsChanged) are executed per
 * subscriber, and written to its socket the same way, masked by the same `present`. Refusals,
 * subscription errors and completion still go through graphql-ws.
 */
export function sharedSubscribe(options: SharedSubscribeOptions): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const { operations, sinks, present } = options;
  const results = new WeakMap<object, Map<string, Shared>>();
  const sharedOf = (payload: object, key: string, args: ExecutionArgs): Shared => {
    let byOperation = results.get(payload);
    if (!byOperation) results.set(payload, (byOperation = new Map()));
    let shared = byOperation.get(key);
    if (!shared) byOperation.set(key, (shared = { result: execute({ ...args, rootValue: payload }) }));
    return shared;
  };
  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source; // refused before it started: errors only
    const events = source[Symbol.asyncIterator]();
    const context = args.contextValue as GraphQLContext;
    const operation = operations.get(context);
    const sink = sinks.get(context);
    const principal = context.principal;
    const key = operation === undefined ? undefined : `${principal?.role ?? ''}\u0000${principal?.isAdmin === true}\u0000${operation}`;
    const prefix = sink ? `{"id":${JSON.stringify(sink.id)},"type":"next","payload":` : '';
    const head = Buffer.from(prefix);
    // One Buffer per socket, the message's bytes: this subscription's head and the shared body
    // (ws would otherwise encode a string per socket). Its write completion is awaited only when
    // the socket is backed up (SOCKET_BACKLOG_BYTES): a callback and a promise per socket and
    // event were most of what this path added over a plain broadcast of the same bytes.
    const send = async (body: Buffer): Promise<void> => {
      const socket = sink?.socket;
      if (socket?.readyState !== OPEN) return; // as graphql-ws does: a closing socket is not an error
      const message = Buffer.concat([head, body], head.length + body.length);
      if (socket.bufferedAmount < SOCKET_BACKLOG_BYTES) return void socket.send(message, TEXT);
      await new Promise<void>((resolve, reject) => socket.send(message, TEXT, (error) => (error ? reject(error) : resolve())));
    };
    const close = async () => {
      await events.return?.();
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        for (;;) {
          const next = await events.next();
          if (next.done) return { done: true, value: undefined };
          try {
            if (key === undefined || !isSharedPayload(next.value)) {
              const result = await execute({ ...args, rootValue: next.value });
              if (!sink) return { done: false, value: result };
              // Not shared (a read-model state such as runProgress's), but written the same way:
              // graphql-ws's emit would copy the result, check the message and serialize it again.
              await send(Buffer.from(`${JSON.stringify(present(result))}}`));
              continue;
            }
            const shared = sharedOf(next.value, key, args);
            const result = await shared.result;
            if (!sink) return { done: false, value: result };
            shared.body ??= Buffer.from(`${JSON.stringify(present(result))}}`);
            await send(shared.body);
          } catch (error) {
            await close();
            throw error;
          }
        }
      },
      async return() {
        await close();
        return { done: true, value: undefined };
      },
      async throw(error?: unknown) {
        await close();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  };
}
