import {
  type ActualRevision,
  type ExpectedRevision,
  WrongExpectedRevisionError,
} from '../../../domain/ports/event-store.js';

/** Throws WrongExpectedRevisionError when a stream at `actual` does not satisfy `expected`. */
export function checkExpectedRevision(streamId: string, expected: ExpectedRevision, actual: ActualRevision): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 'no_stream') ||
    (expected === 'stream_exists' && actual !== 'no_stream') ||
    expected === actual;
  if (!ok) throw new WrongExpectedRevisionError(streamId, expected, actual);
}
