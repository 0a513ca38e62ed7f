/**
 * Server-side filters of `$all` subscriptions: on stream name or on event type, by regex or by
 * prefixes, with checkpoints every `multiplier × window` records scanned.
 */
import { type DoubleError, invalidArgument } from './errors.js';
import type { LogRecord } from './log.js';
import type { streamsPb } from './protocol.js';

type FilterOptions = InstanceType<typeof streamsPb.ReadReq.Options.FilterOptions>;

export interface RecordFilter {
  readonly matches: (record: LogRecord) => boolean;
  /** Records scanned between two checkpoints while catching up. */
  readonly checkpointEvery: number;
}

/** The server's default search window when the client asks for `count`. */
const DEFAULT_WINDOW = 32;

export function parseFilter(options: FilterOptions): RecordFilter | DoubleError {
  const onStream = options.hasStreamIdentifier();
  const expression = onStream ? options.getStreamIdentifier() : options.getEventType();
  if (!expression) return invalidArgument('a filter needs a stream identifier or an event type expression');
  const field = (record: LogRecord) => (onStream ? record.streamId : record.type);
  const regexText = expression.getRegex();
  const prefixes = expression.getPrefixList();
  let test: (value: string) => boolean;
  if (regexText) {
    let regex: RegExp;
    try {
      regex = new RegExp(regexText);
    } catch (error) {
      return invalidArgument(`invalid filter regex: ${(error as Error).message}`);
    }
    test = (value) => regex.test(value);
  } else {
    test = (value) => prefixes.some((p) => value.startsWith(p));
  }
  const multiplier = options.getCheckpointintervalmultiplier();
  if (multiplier <= 0) return invalidArgument('the checkpoint interval multiplier must be > 0');
  const window = options.hasMax() ? options.getMax() : DEFAULT_WINDOW;
  return { matches: (record) => test(field(record)), checkpointEvery: multiplier * window };
}
