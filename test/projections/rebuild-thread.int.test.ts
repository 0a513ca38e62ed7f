import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteRebuildWorker } from '../../src/adapters/readmodels/rebuild-worker.js';
import { createSqliteReadModelStore } from '../../src/adapters/readmodels/sqlite-read-model-store.js';
import type { ReadModelState } from '../../src/projections/documents.js';
import { allProjections, type Projection, ProjectionError, ProjectionRunner } from '../../src/projections/index.js';
import type { RebuildWorker, ReplayJob, ReplayOutcome } from '../../src/projections/runner/replay.js';
import { misbehaving } from '../fixtures/rebuild-projections.js';
import { builtFile } from '../support/built.js';
import { engineHarness, type EngineHarness } from '../support/engine-harness.js';
import { kill9, spawnFixture } from '../support/processes.js';
import { runMixedWorkload, waitForCallsAnswered, workloadTools } from '../support/projections-workload.js';

// The thread runs compiled code (vitest's global setup builds dist/): the thread script, and the
// projections from the same sources as the ones this test imports.
const threadScript = pathToFileURL(builtFile('src/adapters/readmodels/rebuild-worker-thread.ts'));
const realProjections = pathToFileURL(builtFile('src/projections/index.ts'));
const fixtureProjections = (query: string) => new URL(`${pathToFileURL(builtFile('test/fixtures/rebuild-projections.ts')).href}?${query}`);
const projections = allProjections as ReadonlyArray<Projection<ReadModelState>>;

/** Every row of every read-model table, the checkpoints and the indexes, in a stable order. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'rm\\_%' ESCAPE '\\' OR name IN ('projection_docs', 'projection_checkpoints')) ORDER BY name").pluck().all();
    const out: Record<string, unknown[]> = {};
    // A count table keeps a combination at n = 0 once a run left it; which ones depends on the
    // states each commit saw (its batches), not on the documents: only n > 0 is the model.
    for (const t of tables) out[t] = db.prepare(`SELECT * FROM "${t}"${t.includes('__count_') ? ' WHERE n > 0' : ''}`).all().map((r) => JSON.stringify(r)).sort();
    out.indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all();
    return out;
  } finally {
    db.close();
  }
}

function checkpoints(path: string): Record<string, string | null> {
  const db = new Database(path, { readonly: true, timeout: 5_000 });
  try {
    return Object.fromEntries(db.prepare<[], { name: string; position: string | null }>('SELECT name, position FROM projection_checkpoints').all().map((r) => [r.name, r.position]));
  } finally {
    db.close();
  }
}

/** The SQLite rebuild thread, noting each job it is given and how it ended. */
function spied(worker: RebuildWorker, jobs: ReplayJob[], outcomes: ReplayOutcome[]): RebuildWorker {
  return {
    projections: worker.projections,
    start(job) {
      jobs.push(job);
      const thread = worker.start(job);
      void thread.outcome.then((o) => outcomes.push(o), () => {});
      return thread;
    },
  };
}

describe('rebuild with the runs model in a second thread', () => {
  let h: EngineHarness;
  let path: string;
  let head: string;
  let inThread: Record<string, unknown[]>;

  async function rebuild(options: { worker?: RebuildWorker; projections?: ReadonlyArray<Projection<ReadModelState>> } = {}) {
    const readModels = createSqliteReadModelStore({ path });
    const errors: ProjectionError[] = [];
    const runner = new ProjectionRunner({ store: h.store, readModels, projections: options.projections ?? projections, maxBatch: 100, rebuildWorker: options.worker, onError: (e) => errors.push(e) });
    const rebuilt = await runner.rebuild().then(() => undefined, (e: unknown) => e);
    return { runner, readModels, errors, rebuilt };
  }

  /** A stopped runner's next start follows to the head and leaves the tables of the in-thread rebuild. */
  async function resumesToSameTables(runner: ProjectionRunner, readModels: ReturnType<typeof createSqliteReadModelStore>): Promise<void> {
    await runner.start();
    await runner.waitFor(head, 20_000);
    expect(runner.status().map((s) => [s.name, s.status, s.applied])).toEqual(projections.map((p) => [p.name, 'running', head]));
    await runner.stop();
    readModels.close();
    expect(dump(path)).toEqual(inThread);
  }

  /** A runs checkpoint a rebuild committed on its way (not the empty one of its reset, not the head of the one before). */
  const midway = (position: string | null | undefined) => typeof position === 'string' && position !== head;

  beforeAll(async () => {
    h = await engineHarness(workloadTools);
    path = h.store.settings().path;
    await runMixedWorkload(h, 160, 8);
    head = (await waitForCallsAnswered(h)) as string;
    const { runner, readModels, rebuilt } = await rebuild();
    expect(rebuilt).toBeUndefined();
    await runner.stop();
    readModels.close();
    inThread = dump(path);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('gives exactly the tables, checkpoints and indexes of the in-thread rebuild', async () => {
    const jobs: ReplayJob[] = [];
    const outcomes: ReplayOutcome[] = [];
    const worker = spied(sqliteRebuildWorker({ eventStorePath: path, readModelsPath: path, threadScript, projectionsModule: realProjections }), jobs, outcomes);
    const { runner, readModels, rebuilt } = await rebuild({ worker });
    expect(rebuilt).toBeUndefined();
    expect(jobs.map((j) => j.names)).toEqual([['runs']]);
    expect(outcomes).toEqual([{ ok: true, events: expect.any(Number), commitMs: expect.any(Number) }]);
    expect((outcomes[0] as { events: number }).events).toBeGreaterThan(1_000);
    expect(runner.status().map((s) => [s.name, s.status, s.applied])).toEqual(projections.map((p) => [p.name, 'running', head]));
    await runner.stop();
    readModels.close();
    const rows = dump(path);
    expect(rows.rm_runs_runs?.length).toBeGreaterThan(100);
    expect(rows).toEqual(inThread);
  });

  it('rebuilding one projection starts no thread (it would replay nothing else)', async () => {
    const jobs: ReplayJob[] = [];
    const worker = spied(sqliteRebuildWorker({ eventStorePath: path, readModelsPath: path, threadScript, projectionsModule: realProjections }), jobs, []);
    const readModels = createSqliteReadModelStore({ path });
    const runner = new ProjectionRunner({ store: h.store, readModels, projections, rebuildWorker: worker });
    await runner.start();
    await runner.rebuild('runs');
    await runner.rebuild('budgets');
    expect(jobs).toEqual([]);
    await runner.stop();
    readModels.close();
    expect(dump(path)).toEqual(inThread);
  });

  it('a second rebuild while one is under way is refused (it would reset tables the first is still writing), and the first ends as usual', async () => {
    const worker = sqliteRebuildWorker({ eventStorePath: path, readModelsPath: path, threadScript, projectionsModule: realProjections });
    const readModels = createSqliteReadModelStore({ path });
    const runner = new ProjectionRunner({ store: h.store, readModels, projections, rebuildWorker: worker });
    await runner.start();
    const first = runner.rebuild();
    await expect(runner.rebuild('runs')).rejects.toThrow(/already under way/);
    await first;
    await runner.stop();
    readModels.close();
    expect(dump(path)).toEqual(inThread);
  });

  it('an evolve that throws in the thread fails its projection as it does in the runner; the others finish', async () => {
    const after = 700;
    const here = await rebuild({ projections: misbehaving(projections, { mode: 'throw', after }) });
    const worker = sqliteRebuildWorker({ eventStorePath: path, readModelsPath: path, threadScript, projectionsModule: fixtureProjections(`mode=throw&after=${after}`) });
    const there = await rebuild({ worker });
    for (const r of [here, there]) {
      expect(r.rebuilt).toBeInstanceOf(ProjectionError);
      await r.runner.waitFor(head, 20_000, projections.map((p) => p.name).filter((n) => n !== 'runs'));
    }
    const seen = (r: typeof here) => ({
      rejected: (r.rebuilt as ProjectionError).message,
      reported: r.errors.map((e) => [e.projection, { streamId: e.event.streamId, revision: e.event.revision, type: e.event.type, position: e.event.position }, e.message]),
      status: r.runner.status().map((s) => ({ name: s.name, status: s.status, error: s.error?.message, ...(s.name === 'runs' ? {} : { applied: s.applied }) })),
    });
    expect(seen(there)).toEqual(seen(here));
    expect(seen(there).rejected).toMatch(/^projection runs stopped at \w+ run-\S+@\d+ \(position \S+\): runs refused \w+ on purpose$/);
    expect(await there.runner.waitFor(head, 1_000, ['runs']).catch((e: unknown) => e)).toBeInstanceOf(ProjectionError);
    for (const r of [here, there]) {
      await r.runner.stop();
      r.readModels.close();
    }
  });

  it('a runner stopped while its thread rebuilds ends the thread; its next start resumes and ends with the same tables', async () => {
    const jobs: ReplayJob[] = [];
    const worker = spied(sqliteRebuildWorker({ eventStorePath: path, readModelsPath: path, threadScript, projectionsModule: fixtureProjections('mode=hang&after=900') }), jobs, []);
    const readModels = createSqliteReadModelStore({ path });
    const runner = new ProjectionRunner({ store: h.store, readModels, projections, maxBatch: 1, rebuildWorker: worker });
    void runner.rebuild().catch(() => {});
    // The thread started (after the reset) and committed part of the log; it then blocks for good before the head.
    while (jobs.length === 0 || !midway(checkpoints(path).runs)) await new Promise((resolve) => setTimeout(resolve, 20));
    await runner.stop();
    expect(checkpoints(path).runs).not.toBe(head);
    await resumesToSameTables(runner, readModels);
  });

  /** The harness's store, whose headPosition (the rebuild's last setup step) waits for `release`; `asked` resolves when it is called. */
  function heldHead() {
    let release!: () => void;
    let asked!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const entered = new Promise<void>((r) => { asked = r; });
    const store = new Proxy(h.store, {
      get(target, key) {
        if (key === 'headPosition') return () => { asked(); return released.then(() => target.headPosition()); };
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { store, release, entered };
  }

  for (const when of ['before the reset', 'after the reset, while the head is read'] as const) {
    it(`a stop while the rebuild is still setting up (${when}) is respected: the rebuild is refused, no thread runs, nothing is followed or marked done, and the next start ends with the same tables`, async () => {
      const jobs: ReplayJob[] = [];
      const worker = spied(sqliteRebuildWorker({ eventStorePath: path, readModelsPath: path, threadScript, projectionsModule: realProjections }), jobs, []);
      const held = heldHead();
      const readModels = createSqliteReadModelStore({ path });
      const runner = new ProjectionRunner({ store: held.store, readModels, projections, maxBatch: 100, rebuildWorker: worker });
      await runner.start();
      // Before the reset: in the same turn, while the rebuild waits for its loop to stop. After: once it asks for the head.
      const rebuilt = runner.rebuild().then(() => undefined, (e: unknown) => e);
      if (when !== 'before the reset') await held.entered;
      const stopped = runner.stop();
      held.release();
      await stopped;
      expect(String(await rebuilt)).toMatch(/stopped while the rebuild was setting up/);
      expect(jobs).toEqual([]);
      expect(runner.status().map((s) => s.status)).toEqual(projections.map(() => 'stopped'));
      if (when === 'before the reset') expect(dump(path)).toEqual(inThread);
      // After the reset no projection is left marked at the head over emptied tables: the next start replays them.
      else expect(Object.values(checkpoints(path)).filter((c) => c === head)).toEqual([]);
      await resumesToSameTables(runner, readModels);
    });
  }

  it('a process killed mid-rebuild resumes at its next start and ends with the same tables', async () => {
    const child = spawnFixture('test/fixtures/rebuild-crash.ts', [path, '900', '1']);
    try {
      await child.waitForLine(/^rebuilding /);
      // The runs thread committed part of the log (it then blocks for good before the head): kill it.
      while (!midway(checkpoints(path).runs)) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await kill9(child);
    }
    const killed = checkpoints(path);
    expect(killed.runs).not.toBe(head);
    expect(h.store.comparePositions(killed.runs as string, head)).toBeLessThan(0);

    const readModels = createSqliteReadModelStore({ path });
    const runner = new ProjectionRunner({ store: h.store, readModels, projections });
    await runner.start();
    await runner.waitFor(head, 20_000);
    await runner.stop();
    readModels.close();
    expect(dump(path)).toEqual(inThread);
  });
});
