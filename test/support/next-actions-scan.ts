import { overdueAt } from '../../src/domain/run/decide.js';
import type { RunAction } from '../../src/domain/run/next-actions.js';
import { DONE_STEP, type RunState, type StepState } from '../../src/domain/run/state.js';

/**
 * The test oracle: `nextActions` as it was before the run state kept a step index, scanning every
 * step per decision (O(steps) per decision, O(steps²) per run). The incremental one must answer
 * exactly as this does on every state the fold makes (test/domain/next-actions-index.unit.test.ts).
 */
export function nextActionsByScan(state: RunState, now: string, interruptGraceMs = 2_000): RunAction[] {
  if (state.status !== 'RUNNING') return [];
  if (state.deadline && state.deadline <= now) return [{ kind: 'fail', reason: 'deadline' }];

  const byId = new Map(state.steps.map((s) => [s.id, s]));
  const failed = state.steps.find((s) => s.status === 'FAILED');
  if (failed && state.errorStrategy !== 'CONTINUE') return [{ kind: 'fail', stepId: failed.id, reason: 'step_failed' }];

  const actions: RunAction[] = [];
  let running = state.steps.filter((s) => s.status === 'RUNNING').length;
  let wakeAt: string | undefined = state.deadline;
  const earliest = (at: string) => {
    if (!wakeAt || at < wakeAt) wakeAt = at;
  };

  for (const step of state.steps) {
    switch (step.status) {
      case 'PENDING': {
        const deps = step.dependsOn.map((d) => byId.get(d) as StepState);
        const broken = deps.find((d) => d.status === 'FAILED' || d.status === 'SKIPPED');
        if (broken) actions.push({ kind: 'skip', stepId: step.id, becauseOf: broken.id });
        else if (deps.every((d) => d.status === 'SUCCEEDED')) actions.push({ kind: 'route', stepId: step.id });
        break;
      }
      case 'ROUTED':
        if (running < state.maxParallel) {
          actions.push({ kind: 'start', stepId: step.id });
          running++;
        }
        break;
      case 'RETRY_WAIT':
        if (step.retryAt && step.retryAt > now) earliest(step.retryAt);
        else if (running < state.maxParallel) {
          actions.push({ kind: 'start', stepId: step.id });
          running++;
        }
        break;
      case 'AWAITING_APPROVAL': {
        const gate = step.gate;
        if (gate && gate.status === 'OPEN') {
          if (gate.request.expiresAt <= now) actions.push({ kind: 'expire_approval', approvalId: gate.approvalId });
          else {
            if (!gate.consulted && gate.request.automatedApprovers.length > 0) {
              // Another instance's claim is honoured until its lease passes; then anyone may take over.
              const lease = gate.consultation?.leaseUntil;
              if (lease !== undefined && lease > now) earliest(lease);
              else actions.push({ kind: 'consult', approvalId: gate.approvalId });
            }
            earliest(gate.request.expiresAt);
          }
        }
        break;
      }
      case 'RUNNING': {
        const due = overdueAt(step, interruptGraceMs);
        if (due !== undefined && due <= now) actions.push({ kind: 'recover', stepId: step.id, attempt: step.attempts });
        else if (due !== undefined) earliest(due);
        break;
      }
      case 'SUCCEEDED':
      case 'FAILED':
      case 'SKIPPED':
        break;
    }
  }
  if (actions.length === 0 && state.steps.every((s) => DONE_STEP.has(s.status))) return [{ kind: 'complete' }];
  if (wakeAt) actions.push({ kind: 'wait_until', at: wakeAt });
  return actions;
}
