import type { Readable } from 'node:stream';
import type { ResolvedEvent } from '@eventstore/db-client';
import type { RecordedEvent, Subscription } from '../../../domain/ports/event-store.js';
import { SerialSubscription } from '../../../domain/ports/serial-subscription.js';
import { translateError } from './errors.js';

/** The client's subscription: a Node object stream of resolved events that can be cancelled. */
export type ClientStream = Readable & { unsubscribe(): Promise<void> };

/** Turns one resolved event into ours, or undefined to skip it (system events, other filters). */
export type Convert = (resolved: ResolvedEvent) => RecordedEvent | undefined;

/**
 * The port's Subscription over the client's stream. It pulls with `read()`, so a slow reader
 * leaves events in gRPC's flow control instead of in memory; `close()` ends a waiting `next()`
 * at once (it does not wait for another event) and cancels the gRPC call.
 */
export class ClientStreamSubscription extends SerialSubscription<RecordedEvent> implements Subscription {
  private closed = false;
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private released: Promise<void> | undefined;

  constructor(
    private readonly source: ClientStream,
    private readonly convert: Convert,
    private readonly onClose: (sub: ClientStreamSubscription) => void,
  ) {
    super();
    source.on('readable', this.poke);
    source.on('end', () => {
      this.ended = true;
      this.poke();
    });
    source.on('error', (error: unknown) => {
      this.failure ??= translateError(error);
      this.poke();
    });
  }





  override close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.poke();
      this.onClose(this);
      this.released = this.source
        .unsubscribe()
        .catch(() => undefined)
        .then(() => {
          this.source.destroy();
        });
    }
    return this.released ?? Promise.resolve();
  }

  private readonly poke = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  protected override async pull(): Promise<IteratorResult<RecordedEvent>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const resolved = this.source.read() as ResolvedEvent | null;
      if (resolved !== null) {
        let event: RecordedEvent | undefined;
        try {
          event = this.convert(resolved);
        } catch (error) {
          await this.close();
          throw error;
        }
        if (event) return { done: false, value: event };
        continue;
      }
      if (this.failure !== undefined) {
        const failure = this.failure;
        await this.close();
        throw failure;
      }
      if (this.ended) {
        await this.close();
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
