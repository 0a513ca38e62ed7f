import { Worker } from 'node:worker_threads';
import type { RebuildWorker, ReplayJob, ReplayOutcome } from '../../projections/runner/replay.js';

/** Where the rebuild thread finds the log and the read models, and which code it runs. */
export interface SqliteRebuildWorkerOptions {
  /** The event store's SQLite file. */
  readonly eventStorePath: string;
  /** The read models' SQLite file (often the same file). */
  readonly readModelsPath: string;
  readonly durability?: 'process' | 'power';
  /** The projections it may take (default: `runs`, half a full rebuild's work). */
  readonly projections?: readonly string[];
  /**
   * A module exporting `allProjections` (default: this build's `src/projections/index.js`): the
   * runner's own projections, so both threads run one fold per concept.
   */
  readonly projectionsModule?: URL;
  /** The thread's script (default: the compiled `rebuild-worker-thread.js` beside this file). */
  readonly threadScript?: URL;
}

/** What the thread is started with. */
export interface RebuildThreadData extends ReplayJob {
  readonly eventStorePath: string;
  readonly readModelsPath: string;
  readonly durability: 'process' | 'power' | undefined;
  readonly projectionsModule: string;
}

/** A thread's answer: an outcome, or an error outside any projection (the log or the store failed). */
export type RebuildThreadMessage = { readonly outcome: ReplayOutcome } | { readonly error: unknown };

/**
 * A `RebuildWorker` in a worker thread on the embedded SQLite store: it opens its own event store
 * and read-model connections on the same files. SQLite has one writer at a time, so the two
 * threads' commits take turns (each is one IMMEDIATE transaction of `maxBatch` events).
 */
export function sqliteRebuildWorker(options: SqliteRebuildWorkerOptions): RebuildWorker {
  const script = options.threadScript ?? new URL('./rebuild-worker-thread.js', import.meta.url);
  const projectionsModule = (options.projectionsModule ?? new URL('../../projections/index.js', import.meta.url)).href;
  return {
    projections: options.projections ?? ['runs'],
    start(job) {
      const data: RebuildThreadData = { ...job, names: [...job.names], eventStorePath: options.eventStorePath, readModelsPath: options.readModelsPath, durability: options.durability, projectionsModule };
      const worker = new Worker(script, { workerData: data });
      let stopped = false;
      const outcome = new Promise<ReplayOutcome>((resolve, reject) => {
        worker.once('message', (message: RebuildThreadMessage) => {
          if ('outcome' in message) resolve(message.outcome);
          else reject(message.error);
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(stopped ? 'the rebuild thread was stopped' : `the rebuild thread exited with code ${code} before it answered`)));
      });
      outcome.catch(() => {}); // the runner awaits it; a stop before then is not an unhandled rejection
      return {
        outcome,
        stop: async () => {
          stopped = true;
          await worker.terminate();
        },
      };
    },
  };
}
