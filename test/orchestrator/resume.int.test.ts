import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, type EngineHarness, engineHarness, restartedEngine, teardownEach } from '../support/engine-harness.js';

const Any = z.record(z.string(), z.unknown());
const step = (id: string, tool: string, dependsOn: string[] = []) => ({ id, tool, input: {}, domain: 'ops', dependsOn });
const terminal = (s: { status: string }) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

/** A non-idempotent tool that ignores its AbortSignal and answers only when released. */
function charge() {
  const keys: string[] = [];
  const releases: Array<() => void> = [];
  const tool = defineTool({
    name: 'charge', description: 'charges a card', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' },
    idempotent: false, timeoutMs: 20_000,
    handler: (_i, ctx) => {
      keys.push(ctx.idempotencyKey);
      return new Promise((resolve) => releases.push(() => resolve({ charged: ctx.idempotencyKey })));
    },
  });
  return { tool, keys, release: () => releases.splice(0).forEach((r) => r()) };
}

/** Fails its first call, succeeds afterwards. */
function flakyOnce() {
  let calls = 0;
  return defineTool({
    name: 'flaky', description: 'x', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 5_000,
    handler: () => {
      calls++;
      if (calls === 1) throw new ToolError('AGENT', 'first call fails');
      return 'ok';
    },
  });
}

let h: EngineHarness;
const cleanups = teardownEach(() => h);

describe('resume never repeats a side effect', () => {
  it('FAIL_FAST: resuming at once while a parallel non-idempotent call is in flight does not call it again, and its answer is recorded', async () => {
    const pay = charge();
    h = await engineHarness([flakyOnce(), pay.tool]);
    await h.api.startRun({ runId: 'ff', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', maxParallel: 2, steps: [step('a', 'flaky'), step('b', 'charge')] }, alice);
    await h.engine.waitFor('ff', (s) => s.status === 'FAILED');
    expect(pay.keys).toEqual(['ff:b:1']);
    await h.api.resumeRun('ff', bob, 'a was a flake');
    // a runs again and succeeds; b's call is still the one in flight: nothing starts it again.
    await h.engine.waitFor('ff', (s) => s.steps[0]?.status === 'SUCCEEDED');
    expect((await h.engine.getState('ff')).steps[1]).toMatchObject({ status: 'RUNNING', attempts: 1 });
    pay.release();
    const done = await h.engine.waitFor('ff', terminal);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps[1]?.output).toEqual({ charged: 'ff:b:1' });
    expect(pay.keys).toEqual(['ff:b:1']);
    const trace = await h.trace('ff');
    expect(trace.filter((t) => t === 'ToolCallStarted(b)')).toHaveLength(1);
    expect(trace.filter((t) => t === 'ToolCallSucceeded(b)')).toHaveLength(1);
  });

  it('a call still running when its run failed is answered into the log, and the run stays FAILED', async () => {
    const pay = charge();
    h = await engineHarness([flakyOnce(), pay.tool]);
    await h.api.startRun({ runId: 'late', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', maxParallel: 2, steps: [step('a', 'flaky'), step('b', 'charge')] }, alice);
    await h.engine.waitFor('late', (s) => s.status === 'FAILED');
    pay.release();
    const after = await h.engine.waitFor('late', (s) => s.steps[1]?.status === 'SUCCEEDED');
    expect(after.status).toBe('FAILED');
    expect((await h.trace('late')).slice(-2)).toEqual(['RunFailed', 'ToolCallSucceeded(b)']);
  });

  it('a late success of a call given up on as INTERRUPTED counts: a resume does not run it again', async () => {
    const pay = charge();
    h = await engineHarness([defineTool({ ...pay.tool, timeoutMs: 150 })], { interruptGraceMs: 20 });
    await h.api.startRun({ runId: 'stall', goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [step('s', 'charge')] }, alice);
    await h.engine.waitFor('stall', (s) => s.steps[0]?.status === 'RUNNING');
    await h.engine.close(); // stalled, as far as anyone else can tell

    const other = restartedEngine(h, [pay.tool], { interruptGraceMs: 20 });
    cleanups.push(other.close);
    await other.engine.start();
    const failed = await other.engine.waitFor('stall', terminal);
    expect(failed).toMatchObject({ status: 'FAILED', steps: [{ status: 'FAILED', error: { code: 'INTERRUPTED' } }] });
    // The stalled engine's call answers after all: its success is the truth and is kept.
    const recorded = await other.engine.execute('stall', [
      { type: 'RecordToolResult', stepId: 's', attempt: 1, outcome: { ok: true, output: { charged: 'stall:s:1' }, durationMs: 400 }, retry: { maxAttempts: 3, baseDelayMs: 10, factor: 2, maxDelayMs: 100, jitter: 0 }, now: other.engine.now(), random: 0.5 },
    ]);
    expect(recorded.steps[0]).toMatchObject({ status: 'SUCCEEDED', output: { charged: 'stall:s:1' } });
    await other.api.resumeRun('stall', bob, 'the charge went through');
    expect((await other.engine.waitFor('stall', terminal)).status).toBe('SUCCEEDED');
    expect(pay.keys).toEqual(['stall:s:1']);
  });
});
