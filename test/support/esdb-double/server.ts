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
}

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
  server.addService(streamsGrpc.StreamsService, {
    read: readHandler(log, reads),
    append: appendHandler(log),
    delete: deleteHandler(log),
    tombstone: tombstoneHandler(log),
  });
  server.addService(serverFeaturesGrpc.ServerFeaturesService, { getSupportedMethods: supportedMethodsHandler() });
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
