/**
 * An in-memory EventStoreDB stand-in served over real gRPC on loopback, built on the service
 * definitions the official client ships. Streams (Read incl. subscriptions, Append, Delete,
 * Tombstone) and ServerFeatures are served; every other service and method (BatchAppend,
 * persistent subscriptions, projections, gossip, ...) answers UNIMPLEMENTED.
 */
import { appendHandler } from './append.js';
import { deleteHandler, tombstoneHandler } from './delete.js';
import { supportedMethodsHandler } from './features.js';
import { EventLog } from './log.js';
import { grpc, serverFeaturesGrpc, streamsGrpc } from './protocol.js';
import { type ReadStats, readHandler } from './read.js';
import { emitCategoryLinks, seedSystemEvents } from './seed.js';

export interface EsdbDoubleOptions {
  /** Seed `$`-system events into `$all` first. Default true. */
  readonly seedSystemEvents?: boolean;
  /** Write a `$>` link into `$ce-<category>` after each user event. Default true. */
  readonly categoryLinks?: boolean;
  /** Serve an existing log (a restart: what a real server keeps on disk). Seeding then does not apply. */
  readonly log?: EventLog;
  /** Listen on this port (a restart on the address clients already use). Default: a free one. */
  readonly port?: number;
  /**
   * Asked before each call is served: true answers it UNAVAILABLE at once, as a server that is
   * restarting or a proxy that lost its upstream does (a gRPC blip), without touching the log;
   * 'cancelled' answers CANCELLED, as a server that cancels a call it had started.
   */
  readonly unavailable?: (method: DoubleMethod) => boolean | 'cancelled';
}

/** The methods the double serves, as `unavailable` names them. */
export type DoubleMethod = 'read' | 'append' | 'delete' | 'tombstone' | 'features';

export interface EsdbDouble {
  /** `esdb://127.0.0.1:<port>?tls=false` */
  readonly connectionString: string;
  readonly port: number;
  readonly log: EventLog;
  /** How many records finite reads have sent: what clients asked for, for tests and benchmarks. */
  readonly reads: ReadStats;
  /** Ends every call at once: dispose clients first, then call this. */
  close(): void;
}

export async function startEsdbDouble(options: EsdbDoubleOptions = {}): Promise<EsdbDouble> {
  const log = options.log ?? new EventLog();
  if (!options.log) {
    if (options.seedSystemEvents ?? true) seedSystemEvents(log);
    if (options.categoryLinks ?? true) emitCategoryLinks(log);
  }
  const reads: ReadStats = { recordsSent: 0 };
  const server = new grpc.Server();
  const gate = blipGate(options.unavailable);
  server.addService(streamsGrpc.StreamsService, {
    read: gate('read', readHandler(log, reads)),
    append: gate('append', appendHandler(log)),
    delete: gate('delete', deleteHandler(log)),
    tombstone: gate('tombstone', tombstoneHandler(log)),
  });
  server.addService(serverFeaturesGrpc.ServerFeaturesService, { getSupportedMethods: gate('features', supportedMethodsHandler()) });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    log,
    reads,
    // tryShutdown waits for open subscriptions forever; a test double can just drop them.
    close: () => server.forceShutdown(),
  };
}

/**
 * Wraps a handler so that a call `unavailable` picks is answered UNAVAILABLE before the handler
 * sees it: unary and client-streaming calls through their callback, server streaming as an error.
 */
function blipGate(unavailable: EsdbDoubleOptions['unavailable']) {
  const unavailableStatus = { code: grpc.status.UNAVAILABLE, details: 'the test double is unavailable for a moment' };
  const cancelledStatus = { code: grpc.status.CANCELLED, details: 'the test double cancelled the call' };
  return <C extends { emit(event: 'error', error: unknown): boolean }, R extends unknown[]>(
    method: DoubleMethod,
    handler: (call: C, ...rest: R) => void,
  ) =>
    (call: C, ...rest: R): void => {
      const blip = unavailable?.(method) ?? false;
      if (blip === false) return handler(call, ...rest);
      const status = blip === 'cancelled' ? cancelledStatus : unavailableStatus;
      const callback = rest[0];
      if (typeof callback === 'function') (callback as (error: unknown) => void)(status);
      else call.emit('error', status);
    };
}
