/**
 * Streams.Delete (soft: the stream reads as not found, `$tb` in its metadata stream) and
 * Streams.Tombstone (hard: a `$streamDeleted` event; reads and appends fail for good).
 * Unlike Append, both report a conflict as an error status with trailers.
 */
import { expectedState, expectedVersionNumber } from './expected.js';
import { invalidArgument, streamDeleted, wrongExpectedVersion } from './errors.js';
import type { AppendOutcome, EventLog, ExpectedState } from './log.js';
import { streamName } from './messages.js';
import { type grpc, streamsPb } from './protocol.js';

type DeleteReq = InstanceType<typeof streamsPb.DeleteReq>;
type DeleteResp = InstanceType<typeof streamsPb.DeleteResp>;
type TombstoneReq = InstanceType<typeof streamsPb.TombstoneReq>;
type TombstoneResp = InstanceType<typeof streamsPb.TombstoneResp>;

export function deleteHandler(log: EventLog) {
  return (call: grpc.ServerUnaryCall<DeleteReq, DeleteResp>, callback: grpc.sendUnaryData<DeleteResp>): void => {
    const options = call.request.getOptions();
    const expected = options && expectedState(options);
    if (!options || !expected) return callback(invalidArgument('a delete needs a stream and an expected revision'));
    const name = streamName(options.getStreamIdentifier());
    const outcome = log.softDelete(name, expected);
    answer(name, expected, outcome, callback, () => {
      const response = new streamsPb.DeleteResp();
      if (outcome.kind === 'success') {
        const position = new streamsPb.DeleteResp.Position();
        position.setCommitPosition(outcome.position.commit.toString());
        position.setPreparePosition(outcome.position.prepare.toString());
        response.setPosition(position);
      }
      return response;
    });
  };
}

export function tombstoneHandler(log: EventLog) {
  return (call: grpc.ServerUnaryCall<TombstoneReq, TombstoneResp>, callback: grpc.sendUnaryData<TombstoneResp>): void => {
    const options = call.request.getOptions();
    const expected = options && expectedState(options);
    if (!options || !expected) return callback(invalidArgument('a tombstone needs a stream and an expected revision'));
    const name = streamName(options.getStreamIdentifier());
    const outcome = log.tombstone(name, expected);
    answer(name, expected, outcome, callback, () => {
      const response = new streamsPb.TombstoneResp();
      if (outcome.kind === 'success') {
        const position = new streamsPb.TombstoneResp.Position();
        position.setCommitPosition(outcome.position.commit.toString());
        position.setPreparePosition(outcome.position.prepare.toString());
        response.setPosition(position);
      }
      return response;
    });
  };
}

function answer<R>(name: string, expected: ExpectedState, outcome: AppendOutcome, callback: grpc.sendUnaryData<R>, success: () => R): void {
  switch (outcome.kind) {
    case 'stream_deleted':
      return callback(streamDeleted(name));
    case 'wrong_expected_version':
      return callback(
        wrongExpectedVersion(name, expectedVersionNumber(expected), outcome.current === 'no_stream' ? undefined : outcome.current),
      );
    case 'success':
      return callback(null, success());
  }
}
