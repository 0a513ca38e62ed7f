import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteReadModelStore } from '../../src/adapters/readmodels/sqlite-read-model-store.js';
import type { EventStore, ReadAllOptions, RecordedEvent } from '../../src/domain/ports/event-store.js';
import { dumpState, type ReadModelState } from '../../src/projections/documents.js';
import { allProjections, pendingApprovalsProjection, type Projection, ProjectionRunner, type ProjectionCommit, type ReadModelStore, runQueries, runsProjection } from '../../src/projections/index.js';
import { engineHarness, type EngineHarness } from '../support/engine-harness.js';
import { runMixedWorkload, waitForCallsAnswered, workloadTools } from '../support/projections-workload.js';

/** Every projection, its evolve counted by name: a call on one not being rebuilt is replay work it should not get. */
function counted(calls: Map<string, number>): Projection[] {
  return allProjections.map((p) => {
    const projection = p as Projection<ReadModelState>;
    return {
      ...projection,
      evolve: (state: ReadModelState, event: Parameters<Projection['evolve']>[1]) => {
        calls.set(p.name, (calls.get(p.name) ?? 0) + 1);
        return projection.evolve(state, event);
      },
    };
  });
}

/** The store as it is, counting the events `readAll` hands out (what a catch-up reads and parses). */
function countingReads(store: EventStore, read: { events: number }): EventStore {
  return Object.create(store, {
    readAll: {
      value: async (options?: ReadAllOptions): Promise<RecordedEvent[]> => {
        const events = await store.readAll(options);
        read.events += events.length;
        return events;
      },
    },
  }) as EventStore;
}

/** The real SQLite read-model store, noting which projections each commit wrote. */
function recordingCommits(inner: ReadModelStore, written: ProjectionCommit[]): ReadModelStore {
  return {
    ...inner,
    commit: (commits) => {
      written.push(...commits);
      inner.commit(commits);
    },
  };
}

describe('rebuilding one projection does not replay the others', () => {
  let h: EngineHarness;
  let inner: ReadModelStore;

  beforeAll(async () => {
    h = await engineHarness(workloadTools);
    inner = createSqliteReadModelStore({ path: h.store.settings().path });
    await runMixedWorkload(h, 48, 8);
    // A cancelled run's aborted call reports a little after the run settled: wait for its result.
    await waitForCallsAnswered(h);
  }, 60_000);

  afterAll(async () => {
    inner?.close();
    await h?.close();
  });

  it("reads only the rebuilt projection's event types, calls no other evolve, writes no other document", async () => {
    const calls = new Map<string, number>();
    const read = { events: 0 };
    const written: ProjectionCommit[] = [];
    const projections = counted(calls);
    const runner = new ProjectionRunner({ store: countingReads(h.store, read), readModels: recordingCommits(inner, written), projections });
    await runner.start();
    const head = (await h.store.headPosition()) as string;
    await runner.waitFor(head, 20_000);
    const before = Object.fromEntries(projections.map((p) => [p.name, dumpState(runner.read(p))]));
    const stored = Object.fromEntries(projections.map((p) => [p.name, inner.load(p.name)]));
    const all = await h.store.readAll();
    const ofItsTypes = all.filter((e) => (pendingApprovalsProjection.eventTypes as readonly string[]).includes(e.type)).length;
    expect(ofItsTypes).toBeGreaterThan(0);
    expect(ofItsTypes).toBeLessThan(all.length / 2);
    calls.clear();
    read.events = 0;
    written.length = 0;

    await runner.rebuild(pendingApprovalsProjection.name);

    expect(Object.fromEntries(calls)).toEqual({ [pendingApprovalsProjection.name]: expect.any(Number) });
    expect(read.events).toBe(ofItsTypes);
    expect(written.map((c) => c.name)).toEqual([pendingApprovalsProjection.name]);
    for (const p of projections) {
      expect(dumpState(runner.read(p))).toBe(before[p.name]);
      expect(runner.position(p.name)).toBe(head);
      if (p.name !== pendingApprovalsProjection.name) expect(inner.load(p.name)).toEqual(stored[p.name]);
    }

    // Afterwards every projection follows the log again, the rebuilt one and the others alike.
    await h.api.startRun({ runId: 'after-rebuild', goal: 'x', profile: 'technical', steps: [{ id: 'a', tool: 'ok', input: { n: 1 }, domain: 'work' }] }, { id: 'alice', role: 'developer' });
    await h.settled('after-rebuild');
    await runner.waitFor((await h.store.headPosition()) as string, 10_000);
    expect(runQueries.run(runner.read(runsProjection), 'after-rebuild')?.status).toBe('SUCCEEDED');
    await runner.stop();
  });

  it('a rebuild of a projection that does not exist throws and resets nothing', async () => {
    const written: ProjectionCommit[] = [];
    const readModels = recordingCommits(inner, written);
    const runner = new ProjectionRunner({ store: h.store, readModels, projections: allProjections });
    await runner.start();
    await runner.waitFor((await h.store.headPosition()) as string, 20_000);
    await runner.stop();
    const stored = allProjections.map((p) => inner.load(p.name));
    await expect(runner.rebuild('nope')).rejects.toThrow('no projection named nope');
    expect(allProjections.map((p) => inner.load(p.name))).toEqual(stored);
  });
});
