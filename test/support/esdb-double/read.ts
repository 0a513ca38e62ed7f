/**
 * Streams.Read (server streaming): reads of one stream or of `$all`, and subscriptions to them.
 * Options it does not model are refused with UNIMPLEMENTED instead of being ignored.
 */
import { type DoubleError, notModelled, invalidArgument, streamDeleted } from './errors.js';
import { parseFilter, type RecordFilter } from './filter.js';
import type { EventLog, LogPosition, LogRecord } from './log.js';
import { readEventMessage, streamName, streamNotFoundMessage } from './messages.js';
import { type grpc, streamsPb } from './protocol.js';
import { runSubscription } from './subscription.js';

type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
type ReadResp = InstanceType<typeof streamsPb.ReadResp>;
type Options = InstanceType<typeof streamsPb.ReadReq.Options>;

const BACKWARDS = streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;

/** What finite reads have sent so far: lets tests see how much a client asked for. */
export interface ReadStats {
  recordsSent: number;
}

/**
 * The records a finite read sends, by index into an array it does not copy: the server reads
 * its index from a position for `count` records, so a backwards read of one event costs one
 * event however long `$all` is (a copy of the whole log per read made every read O(log)).
 */
interface Selection {
  readonly source: readonly LogRecord[];
  /** Index of the first record sent. */
  readonly first: number;
  /** How many records are available from `first` in this direction. */
  readonly available: number;
  readonly step: 1 | -1;
}

export function readHandler(log: EventLog, stats: ReadStats = { recordsSent: 0 }) {
  return (call: grpc.ServerWritableStream<ReadReq, ReadResp>): void => {
    const fail = (error: DoubleError): void => {
      call.emit('error', error);
    };
    const options = call.request.getOptions();
    if (!options) return fail(invalidArgument('a read needs options'));
    const refusal = refuseUnmodelled(options);
    if (refusal) return fail(refusal);
    const subscribing = options.hasSubscription();
    const backwards = options.getReadDirection() === BACKWARDS;
    if (subscribing && backwards) return fail(invalidArgument('a subscription reads forwards'));
    let filter: RecordFilter | undefined;
    if (options.hasFilter()) {
      const parsed = parseFilter(options.getFilter() as NonNullable<ReturnType<Options['getFilter']>>);
      if ('code' in parsed) return fail(parsed);
      filter = parsed;
    }

    if (options.hasStream()) {
      const stream = options.getStream() as NonNullable<ReturnType<Options['getStream']>>;
      const name = streamName(stream.getStreamIdentifier());
      if (subscribing) {
        if (log.isTombstoned(name)) return fail(streamDeleted(name));
        const records = () => log.streamRecords(name);
        let start = 0;
        if (stream.hasEnd()) start = records().length;
        else if (stream.hasRevision()) {
          const after = BigInt(stream.getRevision());
          start = records().findIndex((r) => r.revision > after);
          if (start < 0) start = records().length;
        }
        void runSubscription(call, log, { records, start, allStream: false });
        return;
      }
      const found = log.stream(name);
      if (found === 'deleted') return fail(streamDeleted(name));
      if (found === 'not_found') {
        call.write(streamNotFoundMessage(name));
        call.end();
        return;
      }
      const from = stream.hasRevision() ? BigInt(stream.getRevision()) : undefined;
      let selected: LogRecord[];
      if (backwards) {
        selected = stream.hasStart() ? [] : found.filter((r) => from === undefined || r.revision <= from).reverse();
      } else {
        selected = stream.hasEnd() ? [] : found.filter((r) => from === undefined || r.revision >= from);
      }
      // One stream's records: small next to $all, so a copy is fine here.
      void writeAll(call, { source: selected, first: 0, available: selected.length, step: 1 }, BigInt(options.getCount()), stats);
      return;
    }

    const all = options.getAll();
    if (!all) return fail(invalidArgument('a read needs a stream or $all'));
    const position: LogPosition | undefined = all.hasPosition()
      ? {
          commit: BigInt((all.getPosition() as NonNullable<ReturnType<typeof all.getPosition>>).getCommitPosition()),
          prepare: BigInt((all.getPosition() as NonNullable<ReturnType<typeof all.getPosition>>).getPreparePosition()),
        }
      : undefined;
    if (subscribing) {
      // A subscription's start position is exclusive.
      const start = all.hasEnd() ? log.all.length : position ? log.indexAfter(position) : 0;
      void runSubscription(call, log, { records: () => log.all, start, allStream: true, filter });
      return;
    }
    let selected: Selection;
    if (backwards) {
      // Everything before `end`, newest first.
      const end = all.hasStart() ? 0 : position ? log.indexAtOrAfter(position) : log.all.length;
      selected = { source: log.all, first: end - 1, available: end, step: -1 };
    } else {
      const start = all.hasEnd() ? log.all.length : position ? log.indexAtOrAfter(position) : 0;
      selected = { source: log.all, first: start, available: log.all.length - start, step: 1 };
    }
    void writeAll(call, selected, BigInt(options.getCount()), stats);
  };
}

function refuseUnmodelled(options: Options): DoubleError | undefined {
  if (options.getResolveLinks()) return notModelled('resolving link events (resolve_links)');
  if (options.getUuidOption()?.hasStructured()) return notModelled('structured UUIDs');
  if (options.hasControlOption()) return notModelled('control options (compatibility)');
  if (options.hasFilter() && !(options.hasAll() && options.hasSubscription())) {
    return notModelled('filters on reads other than $all subscriptions');
  }
  return undefined;
}

/** Writes a finite read, honouring flow control, then ends the call. */
async function writeAll(call: grpc.ServerWritableStream<ReadReq, ReadResp>, selected: Selection, count: bigint, stats: ReadStats): Promise<void> {
  let cancelled = false;
  call.once('cancelled', () => {
    cancelled = true;
  });
  // Fixed when the read starts: records appended meanwhile are not part of it.
  const limit = count < BigInt(selected.available) ? Number(count) : selected.available;
  for (let i = 0; i < limit && !cancelled; i++) {
    stats.recordsSent++;
    if (!call.write(readEventMessage(selected.source[selected.first + i * selected.step] as LogRecord))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          call.off('cancelled', done);
          resolve();
        };
        call.on('drain', done);
        call.on('cancelled', done);
      });
    }
  }
  if (!cancelled) call.end();
}
