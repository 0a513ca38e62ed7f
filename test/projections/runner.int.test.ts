import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/adapters/eventstore/memory/memory-event-store.js';
import { createMemoryReadModelStore } from '../../src/adapters/readmodels/memory-read-model-store.js';
import { createSqliteReadModelStore } from '../../src/adapters/readmodels/sqlite-read-model-store.js';
import { type Collection, dumpState, type ReadModelState } from '../../src/projections/documents.js';
import {
  allProjections,
  budgetQueries,
  goldenSignalQueries,
  pendingApprovalQueries,
  type Projection,
  ProjectionError,
  ProjectionRunner,
  type ReadModelStore,
  type RebuildProgress,
  runQueries,
  runsProjection,
} from '../../src/projections/index.js';
import { engineHarness, type EngineHarness } from '../support/engine-harness.js';
import { runMixedWorkload, waitForCallsAnswered, workloadTools } from '../support/projections-workload.js';
import { runStarted } from '../support/events.js';
import { tempDir } from '../support/temp.js';

const RUNS = 2_000;

/** A projection's stored documents decoded and encoded again, as one string (what a restart would load). */
function persistedDump(readModels: ReadModelStore, projection: Projection): string {
  const state = projection.initialState();
  for (const [name, c] of Object.entries(state) as Array<[string, Collection<unknown>]>) {
    for (const d of readModels.documents(projection.name, name)) c.restore(d.id, d.doc);
  }
  return dumpState(state);
}

function liveDumps(runner: ProjectionRunner): Record<string, string> {
  return Object.fromEntries(allProjections.map((p) => [p.name, dumpState(runner.read(p as Projection<ReadModelState>))]));
}

describe('projection runner on the SQLite file, fed by the real engine', () => {
  let h: EngineHarness;
  let readModels: ReadModelStore;
  let runner: ProjectionRunner;
  let incremental: Record<string, string>;

  beforeAll(async () => {
    h = await engineHarness(workloadTools);
    readModels = createSqliteReadModelStore({ path: h.store.settings().path });
    runner = new ProjectionRunner({ store: h.store, readModels, projections: allProjections });
    await runner.start();
    await runMixedWorkload(h, RUNS);
    // A cancelled run's aborted call reports (ToolCallFailed) up to ~0.5 s after the run settled:
    // wait until every call has its result, or later tests would replay events this snapshot has not seen.
    const head = await waitForCallsAnswered(h);
    await runner.waitFor(head as string, 20_000);
    incremental = liveDumps(runner);
  }, 120_000);

  afterAll(async () => {
    await runner?.stop();
    readModels?.close();
    await h?.close();
  });

  it('followed 2,000 mixed runs live: every run as the engine sees it, every outcome counted', async () => {
    expect(h.errors).toEqual([]);
    const runs = runner.read(runsProjection);
    expect(runs.runs.size).toBe(RUNS);
    for (let i = 0; i < RUNS; i += 37) {
      const state = await h.engine.getState(`mix-${i}`);
      const view = runQueries.run(runs, `mix-${i}`);
      expect(view?.status).toBe(state.status);
      expect(view?.steps.map((s) => [s.id, s.status, s.attempts])).toEqual(state.steps.map((s) => [s.id, s.status, s.attempts]));
    }
    expect(runQueries.run(runs, 'mix-7')?.status).toBe('CANCELLED');
    const signals = runner.read(allProjections[2]);
    const overall = goldenSignalQueries.signals(signals, 'overall');
    // Per 8 kinds of 250 runs: plain, retried, approved (half of them; the other half denied) and
    // warn-budget runs succeed; CONTINUE runs are partial; broken, denied and blocked runs fail.
    expect(overall?.runs).toEqual({ SUCCEEDED: 250 + 250 + 125 + 250, PARTIAL: 250, FAILED: 250 + 125 + 250, CANCELLED: 250 });
    expect(overall?.latencyMs.count).toBeGreaterThan(0);
    expect(goldenSignalQueries.signals(signals, 'tool:flaky')?.errorsByMode.SYSTEM?.count).toBe(250);
    expect(goldenSignalQueries.signals(signals, 'tool:gated')?.approvalWaitMs.count).toBe(250);
    expect(pendingApprovalQueries.list(runner.read(allProjections[0]), { now: new Date().toISOString() }).totalCount).toBe(0);
    const budget = budgetQueries.run(runner.read(allProjections[1]), 'mix-5');
    expect(budget?.lines.find((l) => l.scope === 'total')).toMatchObject({ limit: 2, used: 3, remaining: 0, exceeded: true, action: 'warn' });
  });

  it('saved every read model with its checkpoint: what is stored equals what is in memory', async () => {
    await runner.stop();
    for (const p of allProjections) {
      expect(readModels.load(p.name)?.checkpoint).toBe(await h.store.headPosition());
      expect(persistedDump(readModels, p as Projection)).toBe(incremental[p.name]);
    }
  });

  it('a restart loads the stored models and does not replay from zero', async () => {
    const again = new ProjectionRunner({ store: h.store, readModels, projections: allProjections });
    await again.start();
    const head = await h.store.headPosition();
    for (const p of allProjections) expect(again.position(p.name)).toBe(head);
    expect(liveDumps(again)).toEqual(incremental);
    await again.stop();
  });

  it('rebuild() replays the log into every model, reports progress, and gives the same bytes', async () => {
    const rebuilt = new ProjectionRunner({ store: h.store, readModels, projections: allProjections });
    await rebuilt.start();
    const progress: RebuildProgress[] = [];
    await rebuilt.rebuild(undefined, (p) => progress.push(p));
    expect(progress.at(-1)).toMatchObject({ done: true, projections: allProjections.map((p) => p.name) });
    expect(progress.at(-1)?.events).toBeGreaterThan(RUNS * 5);
    const dumps = liveDumps(rebuilt);
    for (const p of allProjections) {
      expect(dumps[p.name]).toBe(incremental[p.name]);
      expect(persistedDump(readModels, p as Projection)).toBe(incremental[p.name]);
    }
    await rebuilt.stop();
  });

  it('a projection whose code version changed is rebuilt from the start on its own', async () => {
    const changed = { ...runsProjection, version: runsProjection.version + 1 };
    const others = allProjections.filter((p) => p.name !== 'runs');
    const next = new ProjectionRunner({ store: h.store, readModels, projections: [...others, changed] });
    await next.start();
    const head = await h.store.headPosition();
    expect(next.position('runs')).toBeUndefined();
    for (const p of others) expect(next.position(p.name)).toBe(head);
    await next.waitFor(head as string, 20_000);
    expect(dumpState(next.read(changed))).toBe(incremental.runs);
    await next.stop();
    expect(readModels.load('runs')?.version).toBe(changed.version);
  });
});

describe('projection runner: failures, read-your-writes, lag', () => {
  it('an event that throws stops that projection with an error naming the event; the others go on', async () => {
    const h = await engineHarness(workloadTools);
    try {
      const errors: ProjectionError[] = [];
      const fragile: Projection<{ seen: Collection<number> }> = {
        name: 'fragile',
        version: 1,
        eventTypes: ['ToolCallSucceeded'],
        initialState: () => ({ seen: new (runsProjection.initialState().runs.constructor as new () => Collection<number>)() }),
        evolve(state, event) {
          if (event.type === 'ToolCallSucceeded' && event.metadata.correlationId === 'mix-3') throw new Error('cannot handle this one');
          state.seen.set(event.id, 1);
          return state;
        },
      };
      const runner = new ProjectionRunner({ store: h.store, readModels: createMemoryReadModelStore(), projections: [...allProjections, fragile], onError: (e) => errors.push(e) });
      await runner.start();
      await runMixedWorkload(h, 8, 1);
      const head = (await h.store.headPosition()) as string;
      await runner.waitFor(head, 10_000, allProjections.map((p) => p.name));
      await expect(runner.waitFor(head, 10_000, ['fragile'])).rejects.toBeInstanceOf(ProjectionError);
      expect(errors).toHaveLength(1);
      const failing = (await h.store.readStream('run-mix-3')).find((e) => e.type === 'ToolCallSucceeded');
      expect(errors[0]?.message).toContain(`ToolCallSucceeded run-mix-3@${failing?.revision}`);
      expect(errors[0]?.message).toContain('cannot handle this one');
      expect(runner.status().find((s) => s.name === 'fragile')).toMatchObject({ status: 'failed' });
      expect(runner.status().filter((s) => s.status === 'running')).toHaveLength(allProjections.length);
      expect(runQueries.run(runner.read(runsProjection), 'mix-7')?.status).toBe('CANCELLED');
      await runner.stop();
    } finally {
      await h.close();
    }
  });

  it('waitFor(cursor) lets a caller read its own write; lag says how far behind a stopped runner is', async () => {
    const h = await engineHarness(workloadTools);
    try {
      const runner = new ProjectionRunner({ store: h.store, readModels: createMemoryReadModelStore(), projections: allProjections });
      await runner.start();
      await runMixedWorkload(h, 4, 1);
      await runner.waitFor((await h.store.headPosition()) as string);
      expect((await runner.lag()).every((l) => l.eventsBehind === 0 && l.secondsBehind === 0)).toBe(true);
      await runner.stop();

      await h.api.startRun({ runId: 'late', goal: 'x', profile: 'technical', steps: [{ id: 'a', tool: 'ok', input: { n: 1 }, domain: 'work' }] }, { id: 'alice', role: 'developer' });
      await h.settled('late');
      const lag = await runner.lag();
      const behind = (await h.store.readStream('run-late')).length;
      expect(lag.map((l) => l.eventsBehind)).toEqual(allProjections.map(() => behind));
      expect(lag.every((l) => l.secondsBehind >= 0)).toBe(true);

      await runner.start();
      const last = (await h.store.readStream('run-late', { direction: 'backwards', maxCount: 1 }))[0];
      await runner.waitFor(last?.position as string, 5_000);
      expect(runQueries.run(runner.read(runsProjection), 'late')?.status).toBe('SUCCEEDED');
      await runner.stop();
    } finally {
      await h.close();
    }
  });
});

describe('projection runner: waiters', () => {
  it('waiters registered in any order, before the runner starts, each resolve once their cursor is applied', async () => {
    const store = createMemoryEventStore();
    const positions: string[] = [];
    for (let i = 0; i < 3; i++) positions.push((await store.append(`run-w${i}`, [runStarted(`w${i}`)])).position);
    const runner = new ProjectionRunner({ store, readModels: createMemoryReadModelStore(), projections: allProjections });
    const resolved: number[] = [];
    const waits = [2, 0, 1].map((i) => runner.waitFor(positions[i] as string, 10_000).then(() => resolved.push(i)));
    await runner.start();
    await Promise.all(waits);
    expect(resolved.sort()).toEqual([0, 1, 2]);
    // Live: an append's own position, waited for, shows in the read model (read-your-writes).
    const { position } = await store.append('run-w3', [runStarted('w3')]);
    await runner.waitFor(position, 10_000);
    expect(runQueries.run(runner.read(runsProjection), 'w3')?.status).toBe('RUNNING');
    await runner.stop();
    await store.close();
  });
});

describe('SQLite read-model store: reset', () => {
  it('drops only the named projections, or everything at once when no other projection has documents', () => {
    const tmp = tempDir();
    const store = createSqliteReadModelStore({ path: join(tmp.dir, 'rm.sqlite') });
    const doc = (id: string) => ({ collection: 'c', id, doc: `{"id":"${id}"}` });
    const fill = () =>
      store.commit([
        { name: 'a', version: 1, checkpoint: '5', changes: [doc('1'), doc('2')] },
        { name: 'b', version: 1, checkpoint: '5', changes: [doc('1')] },
      ]);
    const stored = (name: string) => ({ ...store.load(name), documents: store.documents(name, 'c').map((d) => ({ collection: 'c', ...d })) });
    fill();
    store.reset([{ name: 'a', version: 2 }]);
    expect(stored('a')).toEqual({ version: 2, checkpoint: undefined, documents: [] });
    expect(stored('b')).toEqual({ version: 1, checkpoint: '5', documents: [doc('1')] });
    fill();
    store.reset([{ name: 'a', version: 3 }, { name: 'b', version: 4 }]);
    expect([stored('a'), stored('b')]).toEqual([
      { version: 3, checkpoint: undefined, documents: [] },
      { version: 4, checkpoint: undefined, documents: [] },
    ]);
    store.close();
    tmp.remove();
  });
});
