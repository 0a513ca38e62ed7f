import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryRunIndex } from '../../src/orchestrator/memory-run-index.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import type { RunIndexStore } from '../../src/domain/ports/run-index.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { RunFollower } from '../../src/orchestrator/run-follower.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { alice, type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { until } from '../support/server-harness.js';

const gated = defineTool({
  name: 'gated', description: 'waits for a human', input: z.record(z.string(), z.unknown()), domain: 'ops', action: { category: 'write', operation: 'write' },
  idempotent: true, timeoutMs: 500, approval: { eligibleRoles: ['tech_lead'] }, handler: () => 'ran',
});
const quick = defineTool({
  name: 'quick', description: 'answers at once', input: z.record(z.string(), z.unknown()), domain: 'ops', action: { category: 'file', operation: 'read' },
  idempotent: true, timeoutMs: 500, handler: () => 'done',
});
const N = 40;

/** The store, with every readStream counted. */
function counting(store: EventStore): { store: EventStore; reads: () => number } {
  let reads = 0;
  const wrapped = Object.create(store) as EventStore;
  wrapped.readStream = (...args) => { reads++; return store.readStream(...args); };
  return { store: wrapped, reads: () => reads };
}

let h: EngineHarness | undefined;
let base: EngineHarness | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await h?.close();
  h = undefined;
  await base?.close();
  base = undefined;
});

async function idleRuns(n: number) {
  h = await engineHarness([gated], { reconcileEveryMs: 0 });
  for (let i = 0; i < n; i++) {
    await h.api.startRun({ runId: `idle-${i}`, goal: 'x', profile: 'technical', steps: [{ id: 'g', tool: 'gated', input: {}, domain: 'ops', dependsOn: [] }] }, alice);
  }
  return h;
}

describe('following costs what changed, not what is open', () => {
  it('five sweeps over N idle runs read none of them again (they read every run each time before)', async () => {
    const base = await idleRuns(N);
    const { store, reads } = counting(base.store);
    const engine = new RunEngine({ store, tools: new ToolRegistry([gated]), reconcileEveryMs: 0, onError: (e) => base.errors.push(e) });
    cleanups.push(() => engine.close());
    const follower = new RunFollower(store, createMemoryRunIndex(), engine, (e) => base.errors.push(e), 60_000, 0);
    cleanups.push(() => follower.close());
    expect(await follower.start()).toHaveLength(N);
    const drained = async () => { for (let i = 0; i < N; i++) await engine.execute(`idle-${i}`, []); };
    await drained(); // recovery: each run read once
    const afterRecovery = reads();
    for (let sweep = 0; sweep < 5; sweep++) {
      follower.sweep();
      await drained();
    }
    expect(reads() - afterRecovery).toBe(0);
    expect(base.errors).toEqual([]);
  });

  it('the run index writes what changed, not every open id each time', async () => {
    const base = await idleRuns(N);
    const inner = createMemoryRunIndex();
    const writes: number[] = [];
    const index: RunIndexStore = {
      ...inner,
      save: async (s) => {
        // Ids written by this save, whatever shape the change has.
        const c = s as unknown as { active?: string[]; started?: string[]; ended?: string[] };
        writes.push((c.active?.length ?? 0) + (c.started?.length ?? 0) + (c.ended?.length ?? 0));
        await inner.save(s);
      },
    };
    const engine = new RunEngine({ store: base.store, tools: new ToolRegistry([gated]), runIndex: index, reconcileEveryMs: 0, onError: (e) => base.errors.push(e) });
    cleanups.push(() => engine.close());
    await engine.start();
    const api = new Orchestrator({ engine, tools: new ToolRegistry([gated]) });
    const startup = writes.length;
    await api.startRun({ runId: 'one-more', goal: 'x', profile: 'technical', steps: [{ id: 'g', tool: 'gated', input: {}, domain: 'ops', dependsOn: [] }] }, alice);
    await until(() => writes.length > startup, 10_000); // the next periodic save
    expect(writes.slice(startup)).toEqual([1]);
    expect(base.errors).toEqual([]);
  });

  it('runs this engine finished are not read back when the follower sees their events (each was re-read once before)', async () => {
    base = await engineHarness([quick], { reconcileEveryMs: 0 });
    const { store, reads } = counting(base.store);
    const engine = new RunEngine({ store, tools: new ToolRegistry([quick]), reconcileEveryMs: 0, onError: (e) => base?.errors.push(e) });
    cleanups.push(() => engine.close());
    await engine.start();
    const api = new Orchestrator({ engine, tools: new ToolRegistry([quick]) });
    for (let i = 0; i < N; i++) {
      await api.startRun({ runId: `done-${i}`, goal: 'x', profile: 'technical', steps: [{ id: 'q', tool: 'quick', input: {}, domain: 'ops', dependsOn: [] }] }, alice);
      await engine.waitFor(`done-${i}`, (s) => s.status === 'SUCCEEDED');
    }
    await engine.caughtUp(); // the follower has applied the log to its head
    await new Promise((resolve) => setImmediate(resolve)); // the kicks it made have reached the store
    expect(reads()).toBe(0);
    // What it skips on: a foreign append past this revision (a resume) is still read and decided.
    expect(engine.finishedRevision('done-0')).toBe((await base.store.readStream('run-done-0')).length - 1);
    expect(base.errors).toEqual([]);
  });
});
