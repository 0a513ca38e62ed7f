import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunCommand } from '../../src/domain/run/commands.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { alice, type EngineHarness, engineHarness, restartedEngine, teardownEach } from '../support/engine-harness.js';

const Any = z.record(z.string(), z.unknown());

/** Polls a condition (no sleeps asserted: only the condition matters). */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A slow tool that observes its AbortSignal and says what it saw. */
function slowTool() {
  const seen: string[] = [];
  const tool = defineTool({
    name: 'slow', description: 'x', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' }, idempotent: false, timeoutMs: 60_000,
    handler: (_i, ctx) =>
      new Promise((_resolve, reject) => {
        seen.push(`invoked ${ctx.idempotencyKey}`);
        ctx.signal.addEventListener('abort', () => {
          seen.push(`aborted ${ctx.idempotencyKey}`);
          reject(new ToolError('SYSTEM', 'stopped by its AbortSignal'));
        }, { once: true });
      }),
  });
  return { tool, seen };
}

let h: EngineHarness;
const cleanups = teardownEach(() => h);

describe('a terminal event written by another process stops the work here', () => {
  it.each([
    ['RunCancelled', { type: 'CancelRun', by: alice, reason: 'stop it' }],
    ['RunFailed', { type: 'FailRun', error: { message: 'failed by an operator elsewhere' } }],
  ] as Array<[string, RunCommand]>)('%s appended by an API-only engine aborts the call in flight, is recorded, and the handle is dropped', async (type, command) => {
    const slow = slowTool();
    h = await engineHarness([slow.tool], { reconcileEveryMs: 0 });
    await h.engine.start();
    const apiOnly = restartedEngine(h, [slow.tool], { drive: false });
    cleanups.push(apiOnly.close);
    await apiOnly.api.startRun({ runId: 'far', goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'slow', input: {}, domain: 'ops' }] }, alice);
    await until(() => slow.seen.includes('invoked far:s:1'));

    const ended = await apiOnly.engine.execute('far', [command], 'user:alice');
    expect(ended.status).toBe(type === 'RunCancelled' ? 'CANCELLED' : 'FAILED');
    await until(() => slow.seen.includes('aborted far:s:1'));
    // The tool's answer is recorded after the terminal event; the driving engine forgets the run.
    await until(() => h.engine.knownRevision('far') === undefined);
    expect((await h.trace('far')).slice(-2)).toEqual([type, 'ToolCallFailed(s)']);
    const state = await h.engine.getState('far');
    expect(state.status).toBe(ended.status);
    expect(state.steps[0]).toMatchObject({ status: 'FAILED', error: { code: 'ABORTED' } });
    expect((await apiOnly.api.getRun('far')).status).toBe(ended.status);
  });

  it('a run waiting at a gate here, cancelled elsewhere: this engine lets its copy go, so its readers show CANCELLED', async () => {
    const gated = defineTool({ name: 'gated', description: 'x', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' }, idempotent: true, timeoutMs: 500, approval: { eligibleRoles: ['tech_lead'] }, handler: () => 'ran' });
    h = await engineHarness([gated], { reconcileEveryMs: 0 });
    await h.engine.start();
    await h.api.startRun({ runId: 'gate', goal: 'x', profile: 'technical', steps: [{ id: 'g', tool: 'gated', input: {}, domain: 'ops' }] }, alice);
    expect(h.engine.knownRevision('gate')).toBeDefined();
    const apiOnly = restartedEngine(h, [gated], { drive: false });
    cleanups.push(apiOnly.close);
    await apiOnly.api.cancelRun('gate', alice, 'not needed');
    await until(() => h.engine.knownRevision('gate') === undefined);
    expect((await h.api.getRun('gate')).status).toBe('CANCELLED');
  });
});
