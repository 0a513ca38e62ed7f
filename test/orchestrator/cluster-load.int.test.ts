import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Profile, WorkerConfig } from '../../src/orchestrator/profiles.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, type EngineHarness, engineHarness, restartedEngine } from '../support/engine-harness.js';

// Two workers that can both run everything; w1 first, so a tie goes to w1.
const workers = [WorkerConfig.parse({ name: 'w1', concurrency: 4 }), WorkerConfig.parse({ name: 'w2', concurrency: 4 })];
const profiles = { balanced: Profile.parse({ name: 'balanced', budget: {}, errorStrategy: 'FAIL_FAST', maxParallel: 4, routing: 'least_loaded' }) };

/** A tool that holds its call open until released: a call in flight for as long as the test needs. */
function holdingTool() {
  const releases: Array<() => void> = [];
  const tool = defineTool({
    name: 'hold', description: 'waits to be released', input: z.object({}).loose(), domain: 'ops',
    action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 60_000,
    handler: () => new Promise((resolve) => releases.push(() => resolve({ ok: true }))),
  });
  return { tool, releases, releaseAll: () => { for (const r of releases.splice(0)) r(); } };
}

let h: EngineHarness | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await h?.close();
  h = undefined;
});

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const oneStep = (runId: string) => ({ runId, goal: 'x', profile: 'balanced', steps: [{ id: 's', tool: 'hold', input: {}, domain: 'ops' }] });

describe('least_loaded across instances: load comes from the log', () => {
  it('an engine routes away from a worker whose calls are in flight on another engine of the same store', async () => {
    const held = holdingTool();
    h = await engineHarness([held.tool], { workers, profiles, instanceId: 'a' });
    await h.engine.start();
    const b = restartedEngine(h, [held.tool], { workers, profiles, instanceId: 'b' });
    cleanups.push(async () => { held.releaseAll(); await b.close(); });
    await b.engine.start();

    // Two calls in flight on A, both on w1 (A's own load sends the second there only if... it is free: w1 then w2).
    await h.api.startRun(oneStep('on-a'), alice);
    await until(() => held.releases.length === 1);
    const routedA = (await h.store.readStream('run-on-a')).find((e) => e.type === 'StepRouted');
    expect(routedA?.data).toMatchObject({ worker: 'w1' });

    // B has followed A's ToolCallStarted: it sees w1 busy though nothing runs in B's process.
    await b.engine.caughtUp();
    expect(b.engine.workerLoad()).toEqual([{ worker: 'w1', instance: 'a', inFlight: 1 }]);
    await b.api.startRun(oneStep('on-b'), alice);
    const routedB = (await h.store.readStream('run-on-b')).find((e) => e.type === 'StepRouted');
    expect(routedB?.data).toMatchObject({ worker: 'w2', policy: 'least_loaded', reasoning: 'least loaded: 0/4 calls in flight' });

    // The calls end: the load read from the log goes back to nothing.
    await until(() => held.releases.length === 2);
    held.releaseAll();
    await h.settled('on-a');
    await b.engine.waitFor('on-b', (s) => s.status === 'SUCCEEDED');
    await b.engine.caughtUp();
    expect(b.engine.workerLoad()).toEqual([]);
  });

  it('a restarted engine rebuilds the load of calls still in flight from the log (not only what it followed live)', async () => {
    const held = holdingTool();
    h = await engineHarness([held.tool], { workers, profiles, instanceId: 'a' });
    await h.engine.start();
    await h.api.startRun(oneStep('long'), alice);
    await until(() => held.releases.length === 1);
    // B starts after the call began: its index catches up from the saved cursor, the load from the open runs.
    const b = restartedEngine(h, [held.tool], { workers, profiles, instanceId: 'b' });
    cleanups.push(async () => { held.releaseAll(); await b.close(); });
    await b.engine.start();
    await b.engine.caughtUp();
    expect(b.engine.workerLoad()).toEqual([{ worker: 'w1', instance: 'a', inFlight: 1 }]);
  });
});
