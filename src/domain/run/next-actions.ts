import { overdueAt } from './decide.js';
import type { RunState, StepState } from './state.js';
import { stepIndexOf } from './step-index.js';

/** What the engine should do next for a run; performing an action is the engine's job. */
export type RunAction =
  /** A ready step needs a worker (and maybe an approval gate). */
  | { readonly kind: 'route'; readonly stepId: string }
  /** A routed step (gate passed) or a due retry may claim its next attempt. */
  | { readonly kind: 'start'; readonly stepId: string }
  /** A call is past its timeout and grace with no result: its engine is gone. */
  | { readonly kind: 'recover'; readonly stepId: string; readonly attempt: number }
  /** A step cannot run because something it depends on did not succeed (CONTINUE). */
  | { readonly kind: 'skip'; readonly stepId: string; readonly becauseOf: string }
  /** An open gate whose automated approvers have not answered yet and no instance's claim to ask them is live. */
  | { readonly kind: 'consult'; readonly approvalId: string }
  /** An open approval passed its expiry. */
  | { readonly kind: 'expire_approval'; readonly approvalId: string }
  /** Every step is done: aggregate and complete. */
  | { readonly kind: 'complete' }
  /** A failure ends the run (FAIL_FAST, RETRY exhausted) or the deadline passed. */
  | { readonly kind: 'fail'; readonly stepId?: string; readonly reason: 'step_failed' | 'deadline' }
  /** Nothing to do before this instant (retry due, approval expiry, deadline). */
  | { readonly kind: 'wait_until'; readonly at: string };

/** How long after a call's timeout it counts as interrupted, by default. */
export const INTERRUPT_GRACE_MS = 2_000;

/**
 * The engine's only guide: a pure function of the run's state and the time. Waiting is data
 * (an open gate, a retryAt, a deadline), never a sleeping promise.
 */
export function nextActions(state: RunState, now: string, interruptGraceMs = INTERRUPT_GRACE_MS): RunAction[] {
  if (state.status !== 'RUNNING') return [];
  if (state.deadline && state.deadline <= now) return [{ kind: 'fail', reason: 'deadline' }];

  // Only the steps in play are looked at (the index evolve keeps): a decision costs the same
  // whether 5 or 500 steps have finished before it.
  const { steps } = state;
  const index = stepIndexOf(state);
  const firstFailed = index.failed[0];
  if (firstFailed !== undefined && state.errorStrategy !== 'CONTINUE') return [{ kind: 'fail', stepId: (steps[firstFailed] as StepState).id, reason: 'step_failed' }];

  const actions: RunAction[] = [];
  let running = index.running;
  let wakeAt: string | undefined = state.deadline;
  const earliest = (at: string) => {
    if (!wakeAt || at < wakeAt) wakeAt = at;
  };

  for (const at of index.live) {
    const step = steps[at] as StepState;
    switch (step.status) {
      case 'PENDING': {
        const deps = step.dependsOn.map((d) => steps[index.position.get(d) as number] as StepState);
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
  if (actions.length === 0 && index.done === steps.length) return [{ kind: 'complete' }];
  if (wakeAt) actions.push({ kind: 'wait_until', at: wakeAt });
  return actions;
}
