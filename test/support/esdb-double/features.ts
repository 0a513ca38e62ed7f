/**
 * ServerFeatures.GetSupportedMethods: what the double serves. BatchAppend is not advertised, so
 * the client appends with Streams.Append.
 */
import { grpc, serverFeaturesPb } from './protocol.js';

type Empty = unknown;
type SupportedMethods = InstanceType<typeof serverFeaturesPb.SupportedMethods>;

export const DOUBLE_SERVER_VERSION = '23.10.0-test-double';

const SERVED: ReadonlyArray<[service: string, method: string]> = [
  ['event_store.client.streams.Streams', 'Read'],
  ['event_store.client.streams.Streams', 'Append'],
  ['event_store.client.streams.Streams', 'Delete'],
  ['event_store.client.streams.Streams', 'Tombstone'],
  ['event_store.client.server_features.ServerFeatures', 'GetSupportedMethods'],
];

export function supportedMethodsHandler() {
  return (_call: grpc.ServerUnaryCall<Empty, SupportedMethods>, callback: grpc.sendUnaryData<SupportedMethods>): void => {
    const response = new serverFeaturesPb.SupportedMethods();
    response.setEventStoreServerVersion(DOUBLE_SERVER_VERSION);
    for (const [service, method] of SERVED) {
      const entry = new serverFeaturesPb.SupportedMethod();
      entry.setServiceName(service);
      entry.setMethodName(method);
      response.addMethods(entry);
    }
    callback(null, response);
  };
}
