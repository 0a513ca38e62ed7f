import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { type Child, kill9, spawnFixture } from '../support/processes.js';

/**
 * Takeover of a dead instance's work (issue #17 item 3): engine A (a child process) claims a call
 * and is SIGKILLed; engine B, following the same SQLite store all along, re-claims the call only
 * once the call's timeout plus the grace has passed since A started it, never earlier.
 */
const TIMEOUT_MS = 1_000;
const GRACE_MS = 500;
const ranHere: Array<{ key: string; at: number }> = [];
const sync = defineTool({
  name: 'sync', description: 'answers at once here', input: z.record(z.string(), z.unknown()), domain: 'ops',
  action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: TIMEOUT_MS,
  handler: (_i, ctx) => { ranHere.push({ key: ctx.idempotencyKey, at: Date.now() }); return { ok: true }; },
});

let h: EngineHarness | undefined;
let child: Child | undefined;
afterEach(async () => {
  if (child && child.process.exitCode === null && child.process.signalCode === null) await kill9(child);
  child = undefined;
  if (h) { expect(h.errors).toEqual([]); await h.close(); h = undefined; }
});

describe('a dead instance\'s claimed call is taken over after its timeout plus the grace', () => {
  it('engine A claims and is killed; engine B, live all along, re-claims with the same key only once the call is overdue', async () => {
    h = await engineHarness([sync], { interruptGraceMs: GRACE_MS, instanceId: 'b' });
    await h.engine.start();
    child = spawnFixture('test/fixtures/claim-engine.ts', [h.store.settings().path, 'k1', String(TIMEOUT_MS), String(GRACE_MS)]);
    await child.waitForLine(/^invoked k1:s:1 /);
    await kill9(child);
    const state = await h.engine.waitFor('k1', (s) => s.status === 'SUCCEEDED', 20_000);
    expect(state.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    const starts = (await h.store.readStream('run-k1')).filter((e) => e.type === 'ToolCallStarted').map((e) => e.data as { idempotencyKey: string; startedAt: string; recovered?: boolean });
    expect(starts.map((s) => [s.idempotencyKey, s.recovered ?? false])).toEqual([['k1:s:1', false], ['k1:s:1', true]]);
    const overdue = Date.parse(starts[0]!.startedAt) + TIMEOUT_MS + GRACE_MS;
    // Never earlier: B's claim and B's call both come after the overdue instant (B's own clock decides).
    expect(Date.parse(starts[1]!.startedAt)).toBeGreaterThanOrEqual(overdue);
    expect(ranHere).toHaveLength(1);
    expect(ranHere[0]!.at).toBeGreaterThanOrEqual(overdue);
    const takeoverMs = Date.parse(starts[1]!.startedAt) - Date.parse(starts[0]!.startedAt);
    process.stdout.write(`takeover: claimed again ${takeoverMs} ms after the first claim (timeout ${TIMEOUT_MS} + grace ${GRACE_MS})\n`);
  });
});
