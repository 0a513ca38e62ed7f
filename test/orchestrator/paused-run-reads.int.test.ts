import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { createMemoryRunIndex } from '../../src/orchestrator/memory-run-index.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { RunFollower } from '../../src/orchestrator/run-follower.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { alice, type EngineHarness, engineHarness, restartedEngine } from '../support/engine-harness.js';

const gated = defineTool({
  name: 'gated', description: 'waits for a human', input: z.record(z.string(), z.unknown()), domain: 'ops', action: { category: 'write', operation: 'write' },
  idempotent: true, timeoutMs: 500, approval: { eligibleRoles: ['tech_lead'] }, handler: () => 'ran',
});
const quick = defineTool({
  name: 'quick', description: 'answers at once', input: z.record(z.string(), z.unknown()), domain: 'ops', action: { category: 'file', operation: 'read' },
  idempotent: true, timeoutMs: 500, handler: () => 'done',
});
const tools = [gated, quick];
const N = 30;
const gatedRun = { goal: 'wait', profile: 'technical', steps: [{ id: 'g', tool: 'gated', input: {}, domain: 'ops', dependsOn: [] }] };
const quickRun = { goal: 'go', profile: 'technical', steps: [{ id: 'a', tool: 'quick', input: {}, domain: 'ops', dependsOn: [] }, { id: 'b', tool: 'quick', input: {}, domain: 'ops', dependsOn: ['a'] }] };

/** The store, with every readStream counted per stream, and the events those reads returned. */
function counting(store: EventStore): { store: EventStore; reads: (streamId: string) => number; eventsRead: (streamId: string) => number } {
  const reads = new Map<string, number>();
  const events = new Map<string, number>();
  const wrapped = Object.create(store) as EventStore;
  wrapped.readStream = async (streamId, ...rest) => {
    reads.set(streamId, (reads.get(streamId) ?? 0) + 1);
    const out = await store.readStream(streamId, ...rest);
    events.set(streamId, (events.get(streamId) ?? 0) + out.length);
    return out;
  };
  return { store: wrapped, reads: (streamId) => reads.get(streamId) ?? 0, eventsRead: (streamId) => events.get(streamId) ?? 0 };
}

let h: EngineHarness | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await h?.close();
  h = undefined;
});

/**
 * Instance A (an engine and its follower on a counting store) and instance B (another engine on
 * the same SQLite file, as another process would be). The follower's sweep is called by hand after
 * every foreign run, so each anti-entropy pass is included.
 */
async function twoInstances(bOptions: { drive?: boolean } = {}) {
  h = await engineHarness(tools, { reconcileEveryMs: 0 });
  const { store, reads, eventsRead } = counting(h.store);
  const errors = h.errors;
  const registry = new ToolRegistry(tools);
  const engineA = new RunEngine({ store, tools: registry, reconcileEveryMs: 0, onError: (e) => errors.push(e) });
  cleanups.push(() => engineA.close());
  const followerA = new RunFollower(store, createMemoryRunIndex(), engineA, (e) => errors.push(e), 60_000, 0);
  await followerA.start();
  cleanups.push(() => followerA.close());
  const b = restartedEngine(h, tools, { reconcileEveryMs: 0, ...bOptions });
  cleanups.push(() => b.close());
  /** Waits until A's follower has applied the log to its head and the kicks it made have read what they read. */
  const settledA = async () => {
    await followerA.waitFor(await h?.store.headPosition(), 10_000);
    followerA.sweep();
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    await engineA.getState('nothing-to-see'); // queued behind nothing: lets pending reads settle
  };
  const foreignRuns = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await b.api.startRun({ runId: `foreign-${i}`, ...quickRun }, alice);
      await b.engine.waitFor(`foreign-${i}`, (s) => s.status === 'SUCCEEDED');
      await settledA();
    }
  };
  return { api: new Orchestrator({ engine: engineA, tools: registry }), engineA, b, reads, eventsRead, settledA, foreignRuns };
}

describe('a paused run is not read again because others append', () => {
  it('N foreign runs while a run of this instance waits at a gate: no readStream of that run', async () => {
    const { api, engineA, reads, settledA, foreignRuns } = await twoInstances();
    await api.startRun({ runId: 'paused', ...gatedRun }, alice);
    await engineA.waitFor('paused', (s) => s.steps[0]?.status === 'AWAITING_APPROVAL');
    await settledA();
    const before = reads('run-paused');
    await foreignRuns(N);
    expect(reads('run-paused') - before).toBe(0);
    expect(h?.errors).toEqual([]);
  });

  it('N foreign runs while a run started by the other instance waits at a gate: read once when it appeared, never again', async () => {
    const { engineA, b, reads, settledA, foreignRuns } = await twoInstances();
    await b.api.startRun({ runId: 'paused', ...gatedRun }, alice);
    await b.engine.waitFor('paused', (s) => s.steps[0]?.status === 'AWAITING_APPROVAL');
    await settledA();
    expect((await engineA.getState('paused')).steps[0]?.status).toBe('AWAITING_APPROVAL');
    const before = reads('run-paused');
    await foreignRuns(N);
    expect(reads('run-paused') - before).toBe(0);
    expect(h?.errors).toEqual([]);
  });
});

describe('a run another instance moves on is caught up, not read again whole', () => {
  it('a grant appended by another instance: this engine reads only the events after what it holds, then finishes the run', async () => {
    const { api, engineA, b, eventsRead, settledA } = await twoInstances({ drive: false });
    // A long stream before the gate: eight steps done, then the gated one.
    const steps = [
      ...Array.from({ length: 8 }, (_, i) => ({ id: `q${i}`, tool: 'quick', input: {}, domain: 'ops', dependsOn: i === 0 ? [] : [`q${i - 1}`] })),
      { id: 'g', tool: 'gated', input: {}, domain: 'ops', dependsOn: ['q7'] },
    ];
    const waiting = await api.startRun({ runId: 'long', goal: 'long', profile: 'technical', steps }, alice).then(() =>
      engineA.waitFor('long', (s) => s.steps[8]?.status === 'AWAITING_APPROVAL'));
    await settledA();
    const heldBefore = (await h?.store.readStream('run-long'))?.length ?? 0;
    const readBefore = eventsRead('run-long');
    // Instance B (API only) records the grant; A's follower sees it and A drives the run on.
    await b.api.grantApproval({ approvalId: waiting.steps[8]?.gate?.approvalId as string }, { id: 'bob', role: 'tech_lead' });
    const appendedByB = ((await h?.store.readStream('run-long'))?.length ?? 0) - heldBefore;
    const done = await engineA.waitFor('long', (s) => s.status === 'SUCCEEDED');
    expect(done.steps.map((s) => s.status)).toEqual(Array(9).fill('SUCCEEDED'));
    // Only B's events were read (the whole stream of heldBefore events was read again before).
    expect(eventsRead('run-long') - readBefore).toBe(appendedByB);
    expect(heldBefore).toBeGreaterThan(appendedByB * 10);
    expect(h?.errors).toEqual([]);
  });
});
