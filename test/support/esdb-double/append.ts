/**
 * Streams.Append (client streaming): one options message, then the proposed events; the whole
 * append is applied atomically when the client ends the stream. A conflict is an answer, not an
 * error status, as on the real server.
 */
import { expectedState } from './expected.js';
import { type DoubleError, invalidArgument, maximumAppendSizeExceeded, missingRequiredMetadata, streamDeleted } from './errors.js';
import type { EventLog, ProposedEvent } from './log.js';
import { streamName, uuidText } from './messages.js';
import { grpc, sharedPb, streamsPb } from './protocol.js';

type AppendReq = InstanceType<typeof streamsPb.AppendReq>;
type AppendResp = InstanceType<typeof streamsPb.AppendResp>;

/** EventStoreDB's default MaxAppendSize: data plus metadata of one append, in bytes. */
export const MAX_APPEND_SIZE = 1024 * 1024;

export function appendHandler(log: EventLog) {
  return (call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>): void => {
    let options: InstanceType<typeof streamsPb.AppendReq.Options> | undefined;
    const events: ProposedEvent[] = [];
    let size = 0;
    let failed: DoubleError | undefined;
    call.on('data', (request: AppendReq) => {
      if (failed) return;
      if (!options) {
        if (!request.hasOptions()) failed = invalidArgument('the first AppendReq must carry options');
        else options = request.getOptions();
        return;
      }
      const message = request.getProposedMessage();
      if (!message) {
        failed = invalidArgument('only the first AppendReq may carry options');
        return;
      }
      const metadata = message.getMetadataMap();
      const type = metadata.get('type');
      const contentType = metadata.get('content-type');
      if (type === undefined) failed = missingRequiredMetadata('type');
      else if (contentType === undefined) failed = missingRequiredMetadata('content-type');
      const id = uuidText(message.getId());
      if (!failed && id === undefined) failed = invalidArgument('a proposed message needs an id');
      if (failed) return;
      const data = message.getData_asU8();
      const customMetadata = message.getCustomMetadata_asU8();
      size += data.length + customMetadata.length;
      events.push({ id: id as string, type: type as string, contentType: contentType as string, data, customMetadata });
    });
    call.on('error', () => {});
    call.on('end', () => {
      if (failed) return callback(failed);
      if (!options) return callback(invalidArgument('an append needs options'));
      if (size > MAX_APPEND_SIZE) return callback(maximumAppendSizeExceeded(MAX_APPEND_SIZE));
      const stream = streamName(options.getStreamIdentifier());
      const expected = expectedState(options);
      if (!expected) return callback(invalidArgument('an append needs an expected revision'));
      const outcome = log.append(stream, expected, events);
      const response = new streamsPb.AppendResp();
      switch (outcome.kind) {
        case 'stream_deleted':
          return callback(streamDeleted(stream));
        case 'wrong_expected_version': {
          const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
          if (outcome.current === 'no_stream') wrong.setCurrentNoStream(new sharedPb.Empty());
          else wrong.setCurrentRevision(outcome.current.toString());
          if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
          else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
          else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
          else wrong.setExpectedAny(new sharedPb.Empty());
          response.setWrongExpectedVersion(wrong);
          return callback(null, response);
        }
        case 'success': {
          const success = new streamsPb.AppendResp.Success();
          if (outcome.revision < 0n) success.setNoStream(new sharedPb.Empty());
          else success.setCurrentRevision(outcome.revision.toString());
          const position = new streamsPb.AppendResp.Position();
          position.setCommitPosition(outcome.position.commit.toString());
          position.setPreparePosition(outcome.position.prepare.toString());
          success.setPosition(position);
          response.setSuccess(success);
          return callback(null, response);
        }
      }
    });
  };
}
