import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UnauthorizedError } from '../../src/domain/errors.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, carol, type EngineHarness, engineHarness } from '../support/engine-harness.js';

// Attack (#13): a requester whose step was denied resumes the run to get a fresh gate, then asks
// a different approver, who grants it. The denial must stand for that step unless someone who
// could have decided the gate (an eligible role, not the requester) re-opens it.
const dave = { id: 'dave', role: 'tech_lead' };
const terminal = (s: { status: string }) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

function deployTool() {
  const ran: string[] = [];
  const tool = defineTool({
    name: 'deploy', description: 'deploys', input: z.record(z.string(), z.unknown()), domain: 'ops', action: { category: 'deploy', operation: 'release' },
    idempotent: false, timeoutMs: 5_000, approval: { eligibleRoles: ['tech_lead', 'devops_engineer'] },
    handler: (_i, ctx) => { ran.push(ctx.idempotencyKey); return 'deployed'; },
  });
  return { tool, ran };
}

let h: EngineHarness;
afterEach(async () => {
  expect(h.errors).toEqual([]);
  await h.close();
});

async function deniedRun(requester: { id: string; role: string }) {
  const deploy = deployTool();
  h = await engineHarness([deploy.tool]);
  const run = await h.api.startRun({ runId: 'shop', goal: 'ship', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 'd', tool: 'deploy', input: { env: 'production' }, domain: 'ops' }] }, requester);
  const approvalId = run.steps[0]?.gate?.approvalId as string;
  await h.api.denyApproval({ approvalId, justification: 'not this release' }, requester.id === bob.id ? carol : bob);
  expect((await h.engine.waitFor('shop', terminal)).status).toBe('FAILED');
  return { deploy, approvalId };
}

describe('resume after a denial', () => {
  it('the requester cannot resume a denied step to ask another approver: refused, nothing appended, the tool never runs', async () => {
    const { deploy } = await deniedRun(alice);
    const before = await h.store.readStream('run-shop');
    const attempt = h.api.resumeRun('shop', alice, 'asking dave instead');
    await expect(attempt).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(attempt).rejects.toThrow(/step d was denied/);
    expect(await h.store.readStream('run-shop')).toEqual(before);
    // No fresh gate exists for another approver to grant.
    const state = await h.api.getRun('shop');
    expect(state).toMatchObject({ status: 'FAILED', steps: [{ status: 'FAILED', gate: { status: 'DENIED' } }] });
    expect(deploy.ran).toEqual([]);
  });

  it('a requester who holds an eligible role cannot re-open their own denied step either; nor can an admin who is no approver', async () => {
    await deniedRun(bob);
    await expect(h.api.resumeRun('shop', bob)).rejects.toThrow(/was denied/);
    await expect(h.api.resumeRun('shop', { id: 'root', role: 'admin', isAdmin: true })).rejects.toThrow(/was denied/);
    expect((await h.trace('shop')).filter((t) => t === 'RunResumed')).toEqual([]);
  });

  it('an eligible approver other than the requester re-opens it by resuming: recorded with who and which gate, and a fresh gate is asked', async () => {
    const { deploy, approvalId } = await deniedRun(alice);
    await h.api.resumeRun('shop', carol, 'reviewed: the fix is in');
    const resumed = (await h.store.readStream('run-shop')).find((e) => e.type === 'RunResumed');
    expect(resumed?.data).toEqual({ by: carol, reason: 'reviewed: the fix is in', reopened: [{ stepId: 'd', approvalId }] });
    const waiting = await h.engine.waitFor('shop', (s) => s.steps[0]?.status === 'AWAITING_APPROVAL');
    const fresh = waiting.steps[0]?.gate?.approvalId as string;
    expect(fresh).not.toBe(approvalId);
    await h.api.grantApproval({ approvalId: fresh }, dave);
    expect((await h.engine.waitFor('shop', terminal)).status).toBe('SUCCEEDED');
    expect(deploy.ran).toEqual(['shop:d:1']);
  });
});
