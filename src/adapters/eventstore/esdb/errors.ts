import {
  MaxAppendSizeExceededError,
  StreamDeletedError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { IllegalStateError, ValidationError } from '../../../domain/errors.js';
import { type ExpectedRevision, WrongExpectedRevisionError } from '../../../domain/ports/event-store.js';

/**
 * The client's errors in the port's vocabulary; anything else (unavailable, deadline, access)
 * passes through unchanged so the client's reconnect handling and messages stay intact.
 */
export function translateError(error: unknown, streamId?: string, expected?: ExpectedRevision): unknown {
  if (error instanceof WrongExpectedVersionError && streamId !== undefined) {
    const actual = error.actualVersion;
    return new WrongExpectedRevisionError(
      streamId,
      expected ?? fromClientExpected(error.expectedVersion),
      typeof actual === 'bigint' ? Number(actual) : 'no_stream',
    );
  }
  if (error instanceof StreamDeletedError) {
    return new IllegalStateError(`stream ${streamId ?? error.streamName} was deleted`, { streamId: streamId ?? error.streamName });
  }
  if (error instanceof MaxAppendSizeExceededError) {
    return new ValidationError(`append to ${streamId}: over the server's maximum append size of ${error.maxAppendSize} bytes`, {
      limit: error.maxAppendSize,
    });
  }
  return error;
}

function fromClientExpected(expected: WrongExpectedVersionError['expectedVersion']): ExpectedRevision {
  if (typeof expected === 'bigint') return Number(expected);
  return expected === 'stream_exists' || expected === 'no_stream' ? expected : 'any';
}
