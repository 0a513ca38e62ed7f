/**
 * A subscription over Streams.Read: confirmation, catch-up events (with checkpoints when
 * filtered), a checkpoint, `caught_up`, then live events. It reads the log by index, so the
 * catch-up/live seam has no gap and no duplicate; it honours the client's flow control.
 */
import { randomUUID } from 'node:crypto';
import { streamDeleted } from './errors.js';
import type { RecordFilter } from './filter.js';
import { type EventLog, type LogRecord, TOMBSTONE_TYPE } from './log.js';
import { caughtUpMessage, checkpointMessage, confirmationMessage, readEventMessage } from './messages.js';
import type { grpc, streamsPb } from './protocol.js';

type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
type ReadResp = InstanceType<typeof streamsPb.ReadResp>;

export interface SubscriptionSource {
  /** The growing list it follows: `$all`, or one stream's records. */
  readonly records: () => readonly LogRecord[];
  /** Index of the first record to deliver. */
  readonly start: number;
  /** `$all` subscriptions report checkpoints; stream subscriptions do not. */
  readonly allStream: boolean;
  readonly filter?: RecordFilter;
}

export async function runSubscription(
  call: grpc.ServerWritableStream<ReadReq, ReadResp>,
  log: EventLog,
  source: SubscriptionSource,
): Promise<void> {
  let cancelled = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  call.once('cancelled', () => {
    cancelled = true;
    wakeUp();
  });
  // Any wake-up only makes the loop look again, so one drain listener serves every wait.
  const stopListening = log.onWrite(wakeUp);
  call.on('drain', wakeUp);
  const send = async (message: ReadResp): Promise<void> => {
    if (cancelled) return;
    if (!call.write(message)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  try {
    await send(confirmationMessage(randomUUID()));
    let index = source.start;
    let caughtUp = false;
    let scanned = 0;
    for (;;) {
      const records = source.records();
      while (index < records.length && !cancelled) {
        const record = records[index++] as LogRecord;
        if (!source.allStream && record.type === TOMBSTONE_TYPE) {
          call.emit('error', streamDeleted(record.streamId));
          return;
        }
        scanned++;
        if (!source.filter || source.filter.matches(record)) {
          await send(readEventMessage(record));
        } else if (!caughtUp && scanned % source.filter.checkpointEvery === 0) {
          await send(checkpointMessage(record.position));
        }
      }
      if (cancelled) return;
      if (!caughtUp) {
        caughtUp = true;
        if (source.allStream) await send(checkpointMessage(log.headPosition()));
        await send(caughtUpMessage());
        continue;
      }
      if (source.records().length > index) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      if (cancelled) return;
    }
  } finally {
    stopListening();
    call.off('drain', wakeUp);
  }
}
