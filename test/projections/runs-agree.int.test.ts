import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/domain/events/index.js';
import { foldRun } from '../../src/domain/run/evolve.js';
import { gateStatusOf, initialRunState, type RunState } from '../../src/domain/run/state.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { asProjected, type ProjectedEvent, ProjectionFold } from '../../src/projections/projection.js';
import { runsProjection, type RunView } from '../../src/projections/read-models/runs.js';
import { alice, bob, carol, type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { ev, recorded, type SpecEvent } from '../support/projections-events.js';
import { runMixedWorkload, workloadTools } from '../support/projections-workload.js';

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** What the domain's fold says about a run, in the read model's terms. */
function decided(state: RunState) {
  return {
    status: state.status,
    failure: state.failure,
    steps: state.steps.map((s) => ({
      id: s.id, status: s.status, attempts: s.attempts, worker: s.worker, output: s.output, error: s.error, failureMode: s.failureMode, retryAt: s.retryAt,
      approvalId: s.gate?.approvalId, approvalStatus: s.gate ? gateStatusOf(state, s.gate) : undefined, approvalsReceived: s.gate?.approvers.length,
    })),
  };
}

function projected(run: RunView | undefined) {
  return {
    status: run?.status,
    failure: run?.failure,
    steps: (run?.steps ?? []).map((s) => ({
      id: s.id, status: s.status, attempts: s.attempts, worker: s.worker, output: s.output, error: s.error, failureMode: s.failureMode, retryAt: s.retryAt,
      approvalId: s.approvalId, approvalStatus: s.approvalStatus, approvalsReceived: s.approvalsReceived,
    })),
  };
}

/** Folds the whole log into the runs model and compares every run with `foldRun` over its stream. */
async function expectAgreement(store: EventStore): Promise<number> {
  const log = (await store.readAll()).map(asProjected).filter((e) => e.streamId.startsWith('run-'));
  const fold = new ProjectionFold(runsProjection, (a, b) => store.comparePositions(a, b));
  fold.applyFeed(log);
  const streams = new Map<string, ProjectedEvent[]>();
  for (const e of log) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
  for (const [streamId, events] of streams) {
    const runId = streamId.slice('run-'.length);
    expect({ runId, ...projected(fold.state.runs.get(runId)) }).toEqual(JSON.parse(JSON.stringify({ runId, ...decided(foldRun(events as RunEvent[], initialRunState())) })));
  }
  return streams.size;
}

const spec = (runId: string, type: SpecEvent['type'], data: unknown): SpecEvent => ({ runId, type, data });
const interrupted = (runId: string, stepId: string, attempt = 1) =>
  spec(runId, 'ToolCallFailed', { stepId, attempt, error: { message: 'interrupted', code: 'INTERRUPTED' }, failureMode: 'SYSTEM', retryable: false, durationMs: 5 });
const runFailed = (runId: string) => spec(runId, 'RunFailed', { stage: 'EXECUTE', error: { message: 'boom' }, partialResult: { completedSteps: [], failedSteps: [], skippedSteps: [], remainingSteps: [] } });
const resumed = (runId: string, reopened?: Array<{ stepId: string; approvalId: string }>) => spec(runId, 'RunResumed', { by: bob, ...(reopened ? { reopened } : {}) });
const gated = (runId: string, stepId: string) => [ev.routed(runId, stepId), ev.requested(runId, stepId)];

describe('the runs read model agrees with the domain fold', () => {
  it('over resumes, late results, interrupts, denials and a cancelled gate, every step reads as foldRun says', async () => {
    const { store } = await recorded([
      // A late success of a call given up on as interrupted counts, even after the run failed.
      ev.started('late'), ev.plan('late', [{ id: 'a' }]), ev.routed('late', 'a'), ev.callStarted('late', 'a', 1), interrupted('late', 'a'), runFailed('late'), ev.succeeded('late', 'a', 1),
      // A superseded attempt's late success changes nothing; the new attempt's does.
      ev.started('sup'), ev.plan('sup', [{ id: 'a' }]), ev.callStarted('sup', 'a', 1), interrupted('sup', 'a'), runFailed('sup'), resumed('sup'),
      ev.callStarted('sup', 'a', 2), ev.succeeded('sup', 'a', 1), ev.failed('sup', 'a', 2, 10, 0, 500), ev.callStarted('sup', 'a', 3), ev.succeeded('sup', 'a', 3),
      // A resume leaves a RUNNING call alone; its answer settles it.
      ev.started('run'), ev.plan('run', [{ id: 'a' }, { id: 'b' }]), ev.callStarted('run', 'a', 1), ev.callStarted('run', 'b', 1), ev.failed('run', 'b', 1), runFailed('run'),
      resumed('run'), ev.succeeded('run', 'a', 1),
      // A denial stands across a resume that did not re-open it; a re-opened one is asked again.
      ev.started('deny', 0, { errorStrategy: 'CONTINUE' }), ev.plan('deny', [{ id: 'a' }, { id: 'b' }]), ...gated('deny', 'a'), ...gated('deny', 'b'),
      ev.denied('deny', 'a'), ev.denied('deny', 'b'), runFailed('deny'), resumed('deny', [{ stepId: 'b', approvalId: 'deny/b/1' }]),
      // A run cancelled at its gate: the gate can no longer be decided.
      ev.started('cancel'), ev.plan('cancel', [{ id: 'a' }]), ...gated('cancel', 'a'), ev.cancelled('cancel'),
      // A run failed while another step waits at its gate.
      ev.started('failgate'), ev.plan('failgate', [{ id: 'a' }, { id: 'b' }]), ...gated('failgate', 'a'), ev.callStarted('failgate', 'b'), ev.failed('failgate', 'b'), runFailed('failgate'),
    ]);
    expect(await expectAgreement(store)).toBe(6);
  });

  it('over a real engine workload with failures resumed (denials re-opened by an approver), every run agrees', async () => {
    h = await engineHarness(workloadTools);
    await runMixedWorkload(h, 32, 8);
    for (let i = 0; i < 32; i++) {
      const runId = `mix-${i}`;
      if ((await h.api.getRun(runId)).status !== 'FAILED') continue;
      // bob may re-open a denial (eligible, not the requester); the others are resumed by their requester.
      const by = i % 8 === 4 ? { ...bob, isAdmin: true } : alice;
      await h.api.resumeRun(runId, by, 'again');
      if (i % 8 === 4) {
        // The re-opened gate is asked again: this time it passes.
        const gate = await h.engine.waitFor(runId, (s) => s.steps.some((x) => x.status === 'AWAITING_APPROVAL'));
        const approvalId = gate.steps.find((x) => x.status === 'AWAITING_APPROVAL')?.gate?.approvalId as string;
        await h.api.grantApproval({ approvalId, justification: 'ok now' }, carol);
      }
      await h.settled(runId, 20_000);
    }
    const log = await h.store.readAll();
    expect(log.some((e) => e.type === 'RunResumed')).toBe(true);
    expect(log.some((e) => e.type === 'ApprovalDenied')).toBe(true);
    expect(await expectAgreement(h.store)).toBe(32);
  });
});
