import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createSqliteReadModelStore } from '../../src/adapters/readmodels/sqlite-read-model-store.js';
import { dumpState, type DocumentSource } from '../../src/projections/documents.js';
import { allProjections, type Projection, ProjectionRunner, type ReadModelStore } from '../../src/projections/index.js';
import { engineHarness, type EngineHarness } from '../support/engine-harness.js';
import { runMixedWorkload, waitForCallsAnswered, workloadTools } from '../support/projections-workload.js';

/** What a rebuild asked the read-model store for, per answer: found a stored document, or not. */
interface Lookups {
  found: number;
  missing: number;
}

/** The real SQLite read-model store, counting point lookups (`source(...).get`) by their answer. */
function countingLookups(inner: ReadModelStore, lookups: Lookups): ReadModelStore {
  return {
    ...inner,
    source: (projection, collection): DocumentSource => {
      const source = inner.source(projection, collection);
      return {
        get: (id) => {
          const doc = source.get(id);
          if (doc === undefined) lookups.missing++;
          else lookups.found++;
          return doc;
        },
        find: (query) => source.find(query),
        count: (query) => source.count(query),
        all: () => source.all(),
      };
    },
  };
}

/** The index names of the read-model tables (`rm_*`), sorted. */
function readModelIndexes(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'rm\\_%' ESCAPE '\\' AND sql IS NOT NULL ORDER BY name").pluck().all();
  } finally {
    db.close();
  }
}

describe('a full rebuild starts from empty tables: the store is read only for documents it saved', () => {
  let h: EngineHarness;
  let inner: ReadModelStore;
  let incremental: Record<string, string>;
  let indexes: string[];

  beforeAll(async () => {
    h = await engineHarness(workloadTools);
    await runMixedWorkload(h, 48, 8);
    // A cancelled run's aborted call reports a little after the run settled: wait for its result.
    const head = await waitForCallsAnswered(h);
    inner = createSqliteReadModelStore({ path: h.store.settings().path });
    const live = new ProjectionRunner({ store: h.store, readModels: inner, projections: allProjections });
    await live.start();
    await live.waitFor(head as string, 20_000);
    await live.stop();
    incremental = Object.fromEntries(allProjections.map((p) => [p.name, dumpState(live.read(p as Projection))]));
    indexes = readModelIndexes(h.store.settings().path);
  }, 60_000);

  afterAll(async () => {
    inner?.close();
    await h?.close();
  });

  it('a new document costs no SELECT; one saved and evicted is read back; the result is the same', async () => {
    expect(indexes.length).toBeGreaterThan(0);
    const lookups: Lookups = { found: 0, missing: 0 };
    // A tiny cache and small batches: documents are saved and evicted while their runs go on.
    const runner = new ProjectionRunner({ store: h.store, readModels: countingLookups(inner, lookups), projections: allProjections, cacheSize: 3, maxBatch: 40 });
    await runner.rebuild();

    expect(lookups.missing).toBe(0);
    expect(lookups.found).toBeGreaterThan(0);
    // Its filters of saved ids (1 MiB each) served the rebuild only: not kept for the process's life.
    for (const p of allProjections) for (const c of Object.values(runner.read(p as Projection))) expect(c.filtersMisses).toBe(false);
    for (const p of allProjections) expect(dumpState(runner.read(p as Projection))).toBe(incremental[p.name]);
    expect(readModelIndexes(h.store.settings().path)).toEqual(indexes);
    await runner.stop();
  });

  it('a process that dies during a rebuild leaves the runs table unindexed; the next start puts its indexes back', async () => {
    // What a rebuild does first (reset), then the process ends before the refill caught up.
    const file = createSqliteReadModelStore({ path: h.store.settings().path });
    const runner = new ProjectionRunner({ store: h.store, readModels: file, projections: allProjections });
    await runner.start();
    await runner.stop();
    file.reset(allProjections.map((p) => ({ name: p.name, version: p.version })));
    expect(readModelIndexes(h.store.settings().path)).toEqual([]);
    file.close();

    const again = createSqliteReadModelStore({ path: h.store.settings().path });
    const restarted = new ProjectionRunner({ store: h.store, readModels: again, projections: allProjections });
    await restarted.start();
    await restarted.waitFor((await h.store.headPosition()) as string, 20_000);
    expect(readModelIndexes(h.store.settings().path)).toEqual(indexes);
    for (const p of allProjections) expect(dumpState(restarted.read(p as Projection))).toBe(incremental[p.name]);
    await restarted.stop();
    again.close();
  });
});
