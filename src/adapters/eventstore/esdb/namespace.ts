/**
 * An optional prefix that isolates one store's streams inside a shared EventStoreDB (the opt-in
 * contract run against a real server uses one per test). Empty in production.
 */
export interface Namespace {
  readonly prefix: string;
  /** The server's stream name for an application stream id. */
  toServer(streamId: string): string;
  /** The application stream id, or undefined when the stream is outside the namespace. */
  fromServer(streamName: string): string | undefined;
}

export function namespace(prefix = ''): Namespace {
  if (prefix === '') return { prefix, toServer: (s) => s, fromServer: (s) => s };
  return {
    prefix,
    toServer: (s) => prefix + s,
    fromServer: (s) => (s.startsWith(prefix) ? s.slice(prefix.length) : undefined),
  };
}
