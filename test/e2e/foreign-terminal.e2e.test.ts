import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { type Child, spawnFixture } from '../support/processes.js';

// The API process knows the tool's shape only; the driving process runs it.
const slow = defineTool({
  name: 'slow', description: 'waits until aborted', input: z.record(z.string(), z.unknown()), domain: 'ops',
  action: { category: 'write', operation: 'write' }, idempotent: false, timeoutMs: 60_000,
  handler: () => { throw new Error('never runs in the API process'); },
});

let h: EngineHarness | undefined;
let child: Child | undefined;
afterEach(async () => {
  if (child && child.process.exitCode === null) {
    child.process.kill('SIGTERM');
    await child.exited;
  }
  await h?.close();
});

describe('two processes on one SQLite file', () => {
  it('a cancel from the API-only process aborts the slow tool running in the driving process, is recorded, and the run reads CANCELLED everywhere', async () => {
    h = await engineHarness([slow], { drive: false });
    child = spawnFixture('test/fixtures/slow-engine.ts', [h.store.settings().path]);
    await child.waitForLine(/^ready /);

    await h.api.startRun({ runId: 'two', goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'slow', input: {}, domain: 'ops' }] }, alice);
    await child.waitForLine(/^invoked two:s:1 /);
    const cancelled = await h.api.cancelRun('two', alice, 'from the API process');
    const acknowledged = Date.now();
    expect(cancelled.status).toBe('CANCELLED');

    // The tool saw its AbortSignal fire; its answer is recorded; the driving engine lets the run go.
    const aborted = await child.waitForLine(/^aborted two:s:1 /);
    await child.waitForLine(/^state two CANCELLED$/);
    await child.waitForLine(/^dropped two$/);
    // Reported, not asserted (machines differ): how long after the cancel was acknowledged.
    console.log(`foreign cancel → tool aborted in ${Number(aborted.split(' ')[2]) - acknowledged} ms`);

    const trace = await h.trace('two');
    expect(trace.slice(-2)).toEqual(['RunCancelled', 'ToolCallFailed(s)']);
    const run = await h.api.getRun('two');
    expect(run).toMatchObject({ status: 'CANCELLED', steps: [{ status: 'FAILED', error: { code: 'ABORTED' } }] });

    child.process.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});
