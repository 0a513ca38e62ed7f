/** The expected-revision oneof shared by Append, Delete and Tombstone options. */
import type { ExpectedState } from './log.js';

interface ExpectedOptions {
  hasRevision(): boolean;
  getRevision(): string;
  hasNoStream(): boolean;
  hasAny(): boolean;
  hasStreamExists(): boolean;
}

export function expectedState(options: ExpectedOptions): ExpectedState | undefined {
  if (options.hasRevision()) return { kind: 'revision', revision: BigInt(options.getRevision()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasAny()) return { kind: 'any' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return undefined;
}

/** The legacy numeric encoding the server puts in `expected-version` trailers. */
export function expectedVersionNumber(expected: ExpectedState): bigint {
  switch (expected.kind) {
    case 'revision':
      return expected.revision;
    case 'any':
      return -2n;
    case 'no_stream':
      return -1n;
    case 'stream_exists':
      return -4n;
  }
}
