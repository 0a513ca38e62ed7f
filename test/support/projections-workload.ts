import { z } from 'zod';
import type { RunState } from '../../src/domain/run/state.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { bob, carol, type EngineHarness } from './engine-harness.js';

const input = z.object({ n: z.number() });
const base = { description: 'test tool', input, domain: 'work', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 5_000 } as const;

/** Tools for a realistic mix: fast, flaky (fails its first attempt), broken, gated, budget-hungry and slow. */
export const workloadTools = [
  defineTool({ ...base, name: 'ok', handler: (i) => ({ n: i.n }) }),
  defineTool({
    ...base,
    name: 'flaky',
    retry: { baseDelayMs: 1, maxAttempts: 3 },
    handler: (i, ctx) => {
      if (ctx.attempt === 1) throw new ToolError('SYSTEM', 'connection reset');
      return { n: i.n, attempt: ctx.attempt };
    },
  }),
  defineTool({ ...base, name: 'broken', handler: () => { throw new ToolError('USER', 'bad request'); } }),
  defineTool({ ...base, name: 'gated', domain: 'deploys', approval: { eligibleRoles: ['tech_lead', 'devops_engineer'] }, handler: (i) => ({ released: i.n }) }),
  defineTool({
    ...base,
    name: 'slow',
    handler: (_i, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
  }),
];

const step = (id: string, tool: string, n: number, dependsOn: string[] = []) => ({ id, tool, input: { n }, domain: tool === 'gated' ? 'deploys' : 'work', dependsOn });

const settled = (s: RunState) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

/**
 * Drives `count` runs of seven kinds through the real engine, `inFlight` at a time: plain
 * successes, retries, failures (FAIL_FAST and CONTINUE), approvals granted and denied (one needing
 * two votes), budgets exceeded with warn and with block, and cancellations of a call under way.
 */
export async function runMixedWorkload(h: EngineHarness, count: number, inFlight = 20): Promise<void> {
  const who = { id: 'alice', role: 'developer' };
  const one = async (i: number) => {
    const runId = `mix-${i}`;
    const kind = i % 8;
    const gate = async (stepId: string) => {
      const s = await h.engine.waitFor(runId, (st) => st.steps.find((x) => x.id === stepId)?.status === 'AWAITING_APPROVAL' || settled(st));
      return s.steps.find((x) => x.id === stepId)?.gate?.approvalId;
    };
    switch (kind) {
      case 0:
        await h.api.startRun({ runId, goal: 'plain', profile: 'technical', steps: [step('a', 'ok', i), step('b', 'ok', i, ['a']), step('c', 'ok', i, ['a'])] }, who);
        break;
      case 1:
        await h.api.startRun({ runId, goal: 'retry', profile: 'technical', steps: [step('a', 'flaky', i), step('b', 'ok', i, ['a'])] }, who);
        break;
      case 2:
        await h.api.startRun({ runId, goal: 'fail', profile: 'enterprise', steps: [step('a', 'ok', i), step('b', 'broken', i, ['a']), step('c', 'ok', i, ['b'])] }, who);
        break;
      case 3:
        await h.api.startRun({ runId, goal: 'partial', profile: 'technical', errorStrategy: 'CONTINUE', steps: [step('a', 'broken', i), step('b', 'ok', i, ['a']), step('c', 'ok', i)] }, who);
        break;
      case 4: {
        await h.api.startRun({ runId, goal: 'approve', profile: 'technical', steps: [step('a', 'ok', i), step('b', 'gated', i, ['a'])] }, who);
        const approvalId = await gate('b');
        if (approvalId && i % 16 === 4) await h.api.denyApproval({ approvalId, justification: 'not now' }, bob);
        else if (approvalId) await h.api.grantApproval({ approvalId, justification: 'ok' }, i % 3 === 0 ? carol : bob);
        break;
      }
      case 5:
        await h.api.startRun({ runId, goal: 'warn', profile: 'technical', budget: { totalCalls: 2, onExceed: 'warn' }, steps: [step('a', 'ok', i), step('b', 'ok', i), step('c', 'ok', i, ['a', 'b'])] }, who);
        break;
      case 6:
        await h.api.startRun({ runId, goal: 'block', profile: 'technical', budget: { totalCalls: 1, onExceed: 'block' }, errorStrategy: 'FAIL_FAST', steps: [step('a', 'ok', i), step('b', 'ok', i, ['a'])] }, who);
        break;
      case 7: {
        await h.api.startRun({ runId, goal: 'cancel', profile: 'technical', steps: [step('a', 'ok', i), step('b', 'slow', i, ['a']), step('c', 'ok', i, ['b'])] }, who);
        await h.engine.waitFor(runId, (s) => s.steps.find((x) => x.id === 'b')?.status === 'RUNNING');
        await h.api.cancelRun(runId, who, 'changed my mind');
        break;
      }
    }
    await h.settled(runId, 20_000);
  };
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) await one(next++);
  }));
}

/**
 * Waits until every tool call the log records as started has its result (ToolCallSucceeded or
 * ToolCallFailed) in the log, and returns the position then. A cancelled run's aborted call
 * reports a little after the run settled, and after it a settled workload appends nothing more, so
 * a snapshot taken earlier would miss events a later replay sees. It follows the log through a
 * subscription: it wakes on the store's commits, never on a clock (`timeoutMs` only bounds a hang).
 */
export async function waitForCallsAnswered(h: EngineHarness, timeoutMs = 30_000): Promise<string | undefined> {
  const head = await h.store.headPosition();
  if (head === undefined) return undefined;
  const open = new Set<string>();
  const sub = h.store.subscribeToAll();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void sub.close();
  }, timeoutMs);
  try {
    for await (const e of sub) {
      const call = `${e.streamId}:${(e.data as { stepId?: string }).stepId}:${(e.data as { attempt?: number }).attempt}`;
      if (e.type === 'ToolCallStarted') open.add(call);
      else if (e.type === 'ToolCallSucceeded' || e.type === 'ToolCallFailed') open.delete(call);
      if (open.size === 0 && h.store.comparePositions(e.position, head) >= 0) return e.position;
    }
  } finally {
    clearTimeout(timer);
    await sub.close();
  }
  throw new Error(timedOut ? `calls still unanswered after ${timeoutMs} ms: ${[...open].join(', ')}` : 'the subscription ended');
}
