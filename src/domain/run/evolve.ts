import { assertNever } from '../errors.js';
import { tallyVote } from '../approvals/votes.js';
import type { RunEvent } from '../events/index.js';
import { countCall, scopeKey } from './budget.js';
import { findStep, type GateState, type RunState, type StepState } from './state.js';
import { buildStepIndex, reindexStep, stepIndexOf } from './step-index.js';

/** Applies one event to a run's state. Pure; never throws for an event the decider produced. */
export function evolve(state: RunState, event: RunEvent): RunState {
  // A state read back from a stored document has no index (it is never stored): build it once here.
  // So does a state whose steps are not the array its index was built for (see StepIndex.steps).
  const index = stepIndexOf(state);
  const from = index === state.index ? state : { ...state, index };
  const next = apply(from, event);
  // Every case returns a copy of its own: set the version on it rather than copying it again (a
  // rebuild folds every event of the log; one copy of the whole state per event less).
  if (next === state) return { ...state, version: state.version + 1 };
  (next as { version: number }).version = state.version + 1;
  return next;
}

/** Folds a whole stream. */
export function foldRun(events: Iterable<RunEvent>, from: RunState): RunState {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}

function apply(state: RunState, event: RunEvent): RunState {
  switch (event.type) {
    case 'RunStarted': {
      const d = event.data;
      return {
        ...state,
        status: 'RUNNING',
        runId: d.runId,
        goal: d.goal,
        profile: d.profile,
        requestedBy: d.requestedBy,
        errorStrategy: d.errorStrategy,
        budget: d.budget,
        maxParallel: d.maxParallel,
        deadline: d.deadline,
        workspace: d.workspace,
      };
    }
    case 'PlanCreated': {
      const steps = event.data.steps.map(
        // Every member present, the optional ones undefined: one shape for every step (see initialRunState).
        (s): StepState => ({
          id: s.id, tool: s.tool, input: s.input, domain: s.domain, dependsOn: s.dependsOn, status: 'PENDING', worker: undefined, attempts: 0,
          unanswered: undefined, retryAt: undefined, output: undefined, error: undefined, failureMode: undefined, gate: undefined, startedAt: undefined, timeoutMs: undefined,
        }),
      );
      return { ...state, steps, index: buildStepIndex(steps) };
    }
    case 'StepRouted':
      return updateStep(state, event.data.stepId, (s) => ({ ...s, worker: event.data.worker, status: s.status === 'PENDING' ? 'ROUTED' : s.status }));
    case 'ApprovalRequested': {
      const d = event.data;
      const gate: GateState = { approvalId: d.approvalId, status: 'OPEN', request: d, eligibleRoles: d.eligibleRoles, approvers: [], editedInput: undefined, votes: undefined, consulted: false, consultation: undefined, escalated: false };
      return updateStep(state, d.stepId, (s) => ({ ...s, status: 'AWAITING_APPROVAL', gate }));
    }
    case 'ApprovalGranted': {
      const d = event.data;
      return updateGate(state, d.stepId, (g) => vote(g, d.approver.id, d.editedInput));
    }
    case 'ApprovalAutoApproved':
      // One vote, for the input as requested: alone it never completes a quorum of two or more.
      return updateGate(state, event.data.stepId, (g) => ({ ...vote(g, `approver:${event.data.approver}`, undefined), consulted: true }));
    case 'ApproverConsultationStarted': {
      const d = event.data;
      return updateGate(state, d.stepId, (g) => ({ ...g, consultation: { instance: d.instance, leaseUntil: d.leaseUntil } }));
    }
    case 'ApprovalDenied':
      return failGate(state, event.data.stepId, 'DENIED', `approval denied by ${event.data.approver.id}`);
    case 'ApprovalCancelled':
      return failGate(state, event.data.stepId, 'CANCELLED', `approval cancelled by ${event.data.by.id}`);
    case 'ApprovalExpired':
      return event.data.outcome === 'approved'
        ? updateGate(state, event.data.stepId, (g) => ({ ...g, status: 'GRANTED' }))
        : failGate(state, event.data.stepId, 'EXPIRED_DENIED', 'approval expired');
    case 'ApprovalEscalated': {
      // An automated approver handing over to humans is recorded as an escalation by it.
      const automated = event.data.by.role === AUTOMATED_ROLE;
      return updateGate(state, event.data.stepId, (g) => ({
        ...g,
        eligibleRoles: [...new Set([...g.eligibleRoles, ...event.data.toRoles])],
        consulted: g.consulted || automated,
        escalated: g.escalated || !automated,
      }));
    }
    case 'BudgetWarning':
      return { ...state, usage: { ...state.usage, warned: [...state.usage.warned, scopeKey(event.data.scope)] } };
    case 'BudgetExceeded': {
      const usage = { ...state.usage, exceeded: [...state.usage.exceeded, scopeKey(event.data.scope)] };
      return { ...state, usage };
    }
    case 'ToolCallStarted': {
      const d = event.data;
      if (d.recovered) {
        // The same attempt, claimed again after an interruption: not another call for the budget.
        return updateStep(state, d.stepId, (s) => ({ ...s, status: 'RUNNING', startedAt: d.startedAt, timeoutMs: d.timeoutMs, unanswered: awaiting(s, d.attempt) }));
      }
      const usage = countCall(state.usage, d, findStep(state, d.stepId)?.domain ?? '');
      return updateStep({ ...state, usage }, d.stepId, (s) => ({
        ...s,
        status: 'RUNNING',
        attempts: d.attempt,
        worker: d.worker,
        retryAt: undefined,
        startedAt: d.startedAt,
        timeoutMs: d.timeoutMs,
        unanswered: awaiting(s, d.attempt),
      }));
    }
    case 'ToolCallSucceeded': {
      const d = event.data;
      return updateStep(state, d.stepId, (s) => {
        const answered = { ...s, unanswered: (s.unanswered ?? []).filter((a) => a !== d.attempt) };
        // The latest attempt's success counts even after the engine gave up on it as interrupted:
        // its effect happened, so the step is done and a resume must not run it again.
        const latest = s.attempts === d.attempt && (s.status === 'RUNNING' || (s.status === 'FAILED' && s.error?.code === INTERRUPTED));
        return latest ? { ...answered, status: 'SUCCEEDED', output: d.output, error: undefined, failureMode: undefined } : answered;
      });
    }
    case 'ToolCallFailed': {
      const d = event.data;
      return updateStep(state, d.stepId, (s) => {
        // An INTERRUPTED failure is the engine giving up on the call, not the tool's answer.
        const answered = d.error.code === INTERRUPTED ? s : { ...s, unanswered: (s.unanswered ?? []).filter((a) => a !== d.attempt) };
        // The running attempt's result, or a refusal (policy, budget, routing) before attempt n+1
        // started. Anything else is a late result for an attempt already given up on.
        const current = s.status === 'RUNNING' ? s.attempts === d.attempt : d.attempt === s.attempts + 1;
        if (!current) return answered;
        return { ...answered, status: d.retryAt ? 'RETRY_WAIT' : 'FAILED', retryAt: d.retryAt, error: d.error, failureMode: d.failureMode };
      });
    }
    case 'StepSkipped':
      return updateStep(state, event.data.stepId, (s) => ({ ...s, status: 'SKIPPED' }));
    case 'RunAggregated':
      return { ...state, aggregated: true };
    case 'RunCompleted':
      return { ...state, status: event.data.status };
    case 'RunFailed':
      return {
        ...state,
        status: 'FAILED',
        failure: { error: event.data.error, failureMode: event.data.failureMode, stage: event.data.stage },
      };
    case 'RunCancelled':
      return { ...state, status: 'CANCELLED' };
    case 'RunResumed': {
      const reopened = new Set((event.data.reopened ?? []).map((r) => r.stepId));
      // Failed steps get another go; what is skipped because of them is reconsidered too. A
      // RUNNING step keeps its call: its answer, its timeout or recovery settles it, never a
      // second attempt. A denial stands unless this resume re-opened it.
      const steps = state.steps.map((s) =>
        (s.status === 'FAILED' && !(s.gate?.status === 'DENIED' && !reopened.has(s.id))) || s.status === 'SKIPPED' || s.status === 'RETRY_WAIT'
          ? { ...s, status: s.gate?.status === 'GRANTED' ? 'ROUTED' as const : 'PENDING' as const, retryAt: undefined, error: undefined, failureMode: undefined, gate: s.gate?.status === 'GRANTED' ? s.gate : undefined }
          : s,
      );
      // A resume may reopen any number of steps: the index is rebuilt once (the plan's part is kept).
      return { ...state, status: 'RUNNING', failure: undefined, aggregated: false, steps, index: buildStepIndex(steps, stepIndexOf(state)) };
    }
    default:
      return assertNever(event, 'run event');
  }
}

/** A vote counts for the input it approves (tallyVote); the tool runs with the input that passed. */
function vote(g: GateState, approver: string, editedInput: Record<string, unknown> | undefined): GateState {
  const { tally: votes, passed } = tallyVote(g.votes, g.request.input, editedInput, g.request.requiredApprovals);
  return { ...g, approvers: [...g.approvers, approver], votes, status: passed ? 'GRANTED' : 'OPEN', editedInput: passed ? editedInput : undefined };
}

/**
 * One step changed, found through the index; the steps are copied (one flat copy of the array, no
 * per-step work) and the index is told only about that step.
 */
function updateStep(state: RunState, stepId: string, change: (s: StepState) => StepState): RunState {
  const index = stepIndexOf(state);
  const at = index.position.get(stepId);
  const before = at === undefined ? undefined : state.steps[at];
  if (at === undefined || before === undefined || before.id !== stepId) return { ...state };
  const after = change(before);
  if (after === before) return { ...state };
  const steps = state.steps.slice();
  steps[at] = after;
  return { ...state, steps, index: reindexStep(index, steps, at, before.status) };
}

function updateGate(state: RunState, stepId: string, change: (g: GateState) => GateState): RunState {
  return updateStep(state, stepId, (s) => {
    if (!s.gate) return s;
    const gate = change(s.gate);
    return { ...s, gate, status: gate.status === 'GRANTED' && s.status === 'AWAITING_APPROVAL' ? 'ROUTED' : s.status };
  });
}

function failGate(state: RunState, stepId: string, status: GateState['status'], message: string): RunState {
  return updateStep(state, stepId, (s) => ({
    ...s,
    gate: s.gate ? { ...s.gate, status } : s.gate,
    status: 'FAILED',
    error: { message, code: status === 'CANCELLED' ? 'APPROVAL_CANCELLED' : 'APPROVAL_DENIED' },
    failureMode: 'POLICY',
  }));
}

/** The error code of a call the engine gave up on (its engine stopped before the tool answered). */
export const INTERRUPTED = 'INTERRUPTED';

/** A step's unanswered attempts with `attempt` added once (a recovered claim is the same attempt). */
function awaiting(s: StepState, attempt: number): readonly number[] {
  const open = s.unanswered ?? [];
  return open.includes(attempt) ? open : [...open, attempt];
}

/** The role an automated approver acts in. */
export const AUTOMATED_ROLE = 'automated';

export { scopeKey } from './budget.js';
