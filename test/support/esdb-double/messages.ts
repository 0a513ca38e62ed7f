/** Log records and positions into the wire messages of streams.proto, and UUIDs out of them. */
import type { LogPosition, LogRecord } from './log.js';
import { sharedPb, streamsPb } from './protocol.js';

const { ReadResp } = streamsPb;

export function readEventMessage(record: LogRecord): InstanceType<typeof ReadResp> {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  const uuid = new sharedPb.UUID();
  uuid.setString(record.id);
  recorded.setId(uuid);
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(record.streamId, 'utf8'));
  recorded.setStreamIdentifier(identifier);
  // uint64 fields travel as decimal strings (the client's protos use jstype = JS_STRING).
  recorded.setStreamRevision(record.revision.toString());
  recorded.setCommitPosition(record.position.commit.toString());
  recorded.setPreparePosition(record.position.prepare.toString());
  const metadata = recorded.getMetadataMap();
  metadata.set('type', record.type);
  metadata.set('content-type', record.contentType);
  metadata.set('created', record.created.toString());
  recorded.setData(record.data);
  recorded.setCustomMetadata(record.customMetadata);
  const event = new ReadResp.ReadEvent();
  event.setEvent(recorded);
  event.setCommitPosition(record.position.commit.toString());
  const response = new ReadResp();
  response.setEvent(event);
  return response;
}

export function streamNotFoundMessage(streamName: string): InstanceType<typeof ReadResp> {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(streamName, 'utf8'));
  const notFound = new ReadResp.StreamNotFound();
  notFound.setStreamIdentifier(identifier);
  const response = new ReadResp();
  response.setStreamNotFound(notFound);
  return response;
}

export function confirmationMessage(subscriptionId: string): InstanceType<typeof ReadResp> {
  const confirmation = new ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(subscriptionId);
  const response = new ReadResp();
  response.setConfirmation(confirmation);
  return response;
}

export function checkpointMessage(position: LogPosition): InstanceType<typeof ReadResp> {
  const checkpoint = new ReadResp.Checkpoint();
  checkpoint.setCommitPosition(position.commit.toString());
  checkpoint.setPreparePosition(position.prepare.toString());
  const response = new ReadResp();
  response.setCheckpoint(checkpoint);
  return response;
}

export function caughtUpMessage(): InstanceType<typeof ReadResp> {
  const response = new ReadResp();
  response.setCaughtUp(new ReadResp.CaughtUp());
  return response;
}

/** A UUID from the wire, in either of its two encodings. */
export function uuidText(uuid: InstanceType<typeof sharedPb.UUID> | undefined): string | undefined {
  if (!uuid) return undefined;
  if (uuid.hasString()) return uuid.getString();
  if (!uuid.hasStructured()) return undefined;
  const structured = uuid.getStructured() as InstanceType<typeof sharedPb.UUID.Structured>;
  const bytes = Buffer.alloc(16);
  bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
  bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function streamName(identifier: InstanceType<typeof sharedPb.StreamIdentifier> | undefined): string {
  return Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
}
