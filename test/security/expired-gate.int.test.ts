import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IllegalStateError } from '../../src/domain/errors.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, type EngineHarness, engineHarness } from '../support/engine-harness.js';

// Attack family: deciding a gate after its deadline, in the window before the engine's timer has
// appended ApprovalExpired (a slow or restarted engine, a timer not yet due on this process). The
// log says the gate is open; the clock says it is over. The decision must be refused.

const change = defineTool({
  name: 'ops.change', description: 'x', input: z.record(z.string(), z.unknown()), domain: 'ops', action: { category: 'ops', operation: 'write' },
  idempotent: true, timeoutMs: 2_000, approval: { eligibleRoles: ['tech_lead'], timeoutMs: 60_000, onTimeout: 'deny' }, handler: () => ({ ok: true }),
});

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a decision on an expired gate whose expiry is not yet recorded', () => {
  it.each(['grant', 'deny'] as const)('%s after expiresAt is refused and nothing is appended', async (how) => {
    // A clock the test moves: the engine's expiry timer was armed for a minute of real time, so it
    // cannot fire while the test runs; the gate stays open in the log.
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    h = await engineHarness([change], { clock: { now: () => new Date(now) } });
    await h.api.startRun({ runId: 'late', goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'ops.change', input: {}, domain: 'ops' }] }, alice);
    const gate = (await h.engine.waitFor('late', (s) => s.steps[0]?.status === 'AWAITING_APPROVAL')).steps[0]?.gate;
    expect(gate?.request.expiresAt).toBe('2026-01-01T00:01:00.000Z');

    now = Date.parse('2026-01-01T00:01:00.001Z');
    const before = await h.store.readStream('run-late');
    expect(before.map((e) => e.type)).not.toContain('ApprovalExpired');
    const decide = how === 'grant'
      ? h.api.grantApproval({ approvalId: gate?.approvalId as string, justification: 'just in time?' }, bob)
      : h.api.denyApproval({ approvalId: gate?.approvalId as string, justification: 'too late' }, bob);
    await expect(decide).rejects.toBeInstanceOf(IllegalStateError);
    await expect(decide).rejects.toThrow(/expired/);
    // Nothing of the decision was appended. The refusal makes the engine look at the run again, and
    // it may then record the expiry it now sees: that, and only that, may follow.
    const after = (await h.store.readStream('run-late')).slice(before.length).map((e) => e.type);
    expect(after.filter((t) => t !== 'ApprovalExpired')).toEqual([]);
  });
});
