import { describe, expect, it } from 'vitest';
import { createMemoryReadModelStore } from '../../src/adapters/readmodels/memory-read-model-store.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { allProjections, ProjectionRunner } from '../../src/projections/index.js';
import { metricsEach } from '../support/metrics-harness.js';
import { runMixedWorkload, workloadTools } from '../support/projections-workload.js';

/** The store with every `readAll` counted: the lag gauge's cost is the events it reads. */
function countingReads(store: EventStore): { store: EventStore; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === 'readAll') return (...args: Parameters<EventStore['readAll']>) => (reads++, target.readAll(...args));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, reads: () => reads };
}

const lagOf = (body: string): number[] => [...body.matchAll(/^gatehouse_projection_lag_events\{projection="[^"]+"\} (\d+)$/gm)].map((m) => Number(m[1]));

const setup = metricsEach();

describe('gatehouse_projection_lag_events', () => {
  it('counts the events behind at most once per lagCacheMs, however often /metrics is scraped', async () => {
    const h = await setup.engine(workloadTools);
    await runMixedWorkload(h, 4, 1);
    const total = (await h.store.readAll()).length;
    let now = Date.parse('2026-01-01T00:00:00Z');
    const counted = countingReads(h.store);
    // Not started: every projection is behind by the whole log, as during a first catch-up.
    const runner = new ProjectionRunner({ store: counted.store, readModels: createMemoryReadModelStore(), projections: allProjections, now: () => now, lagCacheMs: 30_000 });
    const metrics = setup.metrics(runner);

    for (let i = 0; i < 10; i++) expect(lagOf((await metrics.render()).body)).toEqual(allProjections.map(() => total));
    expect(counted.reads()).toBe(1);

    // Once the cache is older than lagCacheMs, the next scrape counts again and sees the new events.
    await h.api.startRun({ runId: 'late', goal: 'x', profile: 'technical', steps: [{ id: 'a', tool: 'ok', input: { n: 1 }, domain: 'work' }] }, { id: 'alice', role: 'developer' });
    await h.settled('late');
    const more = (await h.store.readAll()).length;
    expect(more).toBeGreaterThan(total);
    now += 30_001;
    for (let i = 0; i < 10; i++) expect(lagOf((await metrics.render()).body)).toEqual(allProjections.map(() => more));
    expect(counted.reads()).toBe(2);
  });
});
