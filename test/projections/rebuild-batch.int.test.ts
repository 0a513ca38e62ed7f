import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/adapters/eventstore/memory/memory-event-store.js';
import { createMemoryReadModelStore } from '../../src/adapters/readmodels/memory-read-model-store.js';
import { allProjections, ProjectionRunner, type ReadModelStore } from '../../src/projections/index.js';
import { DEFAULT_MAX_BATCH } from '../../src/projections/runner/options.js';
import { ev, T0 } from '../support/projections-events.js';

const EVENTS = 11_000;

describe('a rebuild with the default batch', () => {
  it(`commits its progress at least every ${DEFAULT_MAX_BATCH.toLocaleString('en-US')} events (a crash loses at most that; few unsaved documents held)`, async () => {
    const store = createMemoryEventStore({ now: () => new Date(T0) });
    for (let i = 0; i < EVENTS; i++) {
      const e = ev.started(`r${i}`);
      await store.append(`run-${e.runId}`, [{ type: e.type, data: e.data, metadata: { correlationId: e.runId, actor: 'system:engine' } }]);
    }
    const head = await store.headPosition();
    const inner = createMemoryReadModelStore();
    // Each commit's runs checkpoint, in order.
    const saved: string[] = [];
    const readModels: ReadModelStore = {
      ...inner,
      commit: (commits) => {
        const runs = commits.find((c) => c.name === 'runs');
        if (runs) saved.push(runs.checkpoint);
        inner.commit(commits);
      },
    };
    const runner = new ProjectionRunner({ store, readModels, projections: allProjections });
    await runner.rebuild();
    await runner.stop();
    const all = await store.readAll();
    const index = new Map(all.map((e, i) => [e.position, i + 1]));
    // Events applied at each save, from the start: no gap larger than the batch (plus one page of reads).
    const applied = [0, ...saved.map((p) => index.get(p) as number)];
    expect(saved.at(-1)).toBe(head);
    expect(applied.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < applied.length; i++) expect((applied[i] as number) - (applied[i - 1] as number)).toBeLessThanOrEqual(DEFAULT_MAX_BATCH + 512);
    inner.close();
  }, 60_000);
});
