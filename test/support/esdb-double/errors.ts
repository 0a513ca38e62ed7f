/**
 * gRPC errors the way EventStoreDB sends them: a status code plus an `exception` trailer the
 * client's convertToCommandError switches on.
 */
import { grpc } from './protocol.js';

export type DoubleError = Partial<grpc.StatusObject> & { code: grpc.status; details: string };

function withTrailers(code: grpc.status, details: string, trailers: Record<string, string>): DoubleError {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return { code, details, metadata };
}

export function streamDeleted(streamName: string): DoubleError {
  return withTrailers(grpc.status.FAILED_PRECONDITION, `Event stream '${streamName}' is deleted.`, {
    exception: 'stream-deleted',
    'stream-name': streamName,
  });
}

/** Delete and Tombstone report a conflict as an error (Append answers it in its response). */
export function wrongExpectedVersion(streamName: string, expected: bigint | undefined, actual: bigint | undefined): DoubleError {
  const trailers: Record<string, string> = { exception: 'wrong-expected-version', 'stream-name': streamName };
  trailers['expected-version'] = String(expected ?? -2n);
  if (actual !== undefined) trailers['actual-version'] = String(actual);
  return withTrailers(grpc.status.FAILED_PRECONDITION, `Append failed due to WrongExpectedVersion. Stream: ${streamName}`, trailers);
}

export function maximumAppendSizeExceeded(limit: number): DoubleError {
  return withTrailers(grpc.status.INVALID_ARGUMENT, `Maximum Append Size of ${limit} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(limit),
  });
}

export function missingRequiredMetadata(property: string): DoubleError {
  return withTrailers(grpc.status.INVALID_ARGUMENT, `Required Metadata Property '${property}' is missing`, {
    exception: 'missing-required-metadata-property',
    'required-properties': 'type,content-type',
  });
}

/** An option the double does not model: refused loudly rather than answered wrongly. */
export function notModelled(what: string): DoubleError {
  return { code: grpc.status.UNIMPLEMENTED, details: `the EventStoreDB test double does not model ${what}` };
}

export function invalidArgument(details: string): DoubleError {
  return { code: grpc.status.INVALID_ARGUMENT, details };
}
