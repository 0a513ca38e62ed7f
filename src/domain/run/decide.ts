import { assertNever, IllegalStateError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.js';
import type { RunEvent } from '../events/index.js';
import { BudgetLimits } from '../events/common.js';
import { automatedApprovalRefusal, editRefusal } from '../approvals/gate-rules.js';
import { budgetCheck } from './budget.js';
import type {
  CancelApproval,
  DenyApproval,
  ExpireApproval,
  GrantApproval,
  RecordToolResult,
  ResumeRun,
  RouteStep,
  RunCommand,
  StartRun,
} from './commands.js';
import { validatePlan } from './plan.js';
import { backoffDelayMs } from './retry.js';
import { AUTOMATED_ROLE } from './evolve.js';
import { DONE_STEP, findGate, findStep, type GateState, inputToRun, type RunState, type StepState, TERMINAL_RUN } from './state.js';

const RETRYABLE = new Set(['AGENT', 'SYSTEM', 'RESOURCE']);

/** Decides what a command means for a run: the events to append, or a typed DomainError. Pure. */
export function decide(command: RunCommand, state: RunState): RunEvent[] {
  switch (command.type) {
    case 'StartRun':
      return startRun(command, state);
    case 'RouteStep':
      return routeStep(command, state);
    case 'RejectStep': {
      const step = openStep(state, command.stepId, ['PENDING', 'ROUTED', 'RETRY_WAIT']);
      return [
        {
          type: 'ToolCallFailed',
          data: { stepId: step.id, attempt: step.attempts + 1, error: command.error, failureMode: 'POLICY', retryable: false, durationMs: 0 },
        },
      ];
    }
    case 'StartToolCall': {
      const step = openStep(state, command.stepId, ['ROUTED', 'RETRY_WAIT']);
      if (step.status === 'RETRY_WAIT' && step.retryAt && step.retryAt > command.now) {
        throw new IllegalStateError(`step ${step.id} may not retry before ${step.retryAt}`);
      }
      if (!step.worker) throw new IllegalStateError(`step ${step.id} has no worker`);
      const { events, blocked } = budgetCheck(state, step);
      const attempt = step.attempts + 1;
      if (blocked) {
        return [
          ...events,
          {
            type: 'ToolCallFailed',
            data: { stepId: step.id, attempt, error: { message: 'budget exceeded', code: 'BUDGET_EXCEEDED' }, failureMode: 'POLICY', retryable: false, durationMs: 0 },
          },
        ];
      }
      const input = inputToRun(step);
      return [
        ...events,
        {
          type: 'ToolCallStarted',
          data: {
            stepId: step.id,
            tool: step.tool,
            worker: step.worker,
            attempt,
            idempotencyKey: `${state.runId}:${step.id}:${attempt}`,
            input,
            timeoutMs: command.timeoutMs,
            startedAt: command.now,
          },
        },
      ];
    }
    case 'RecordToolResult':
      return recordToolResult(command, state);
    case 'RecoverToolCall': {
      const step = openStep(state, command.stepId, ['RUNNING']);
      if (step.attempts !== command.attempt) throw new IllegalStateError(`step ${step.id} is at attempt ${step.attempts}, not ${command.attempt}`);
      const due = overdueAt(step, command.graceMs);
      if (due === undefined || due > command.now) throw new IllegalStateError(`step ${step.id} attempt ${step.attempts} is not overdue before ${due}`);
      if (command.idempotent) {
        return [
          {
            type: 'ToolCallStarted',
            data: {
              stepId: step.id,
              tool: step.tool,
              worker: step.worker ?? 'unknown',
              attempt: step.attempts,
              idempotencyKey: `${state.runId}:${step.id}:${step.attempts}`,
              input: inputToRun(step),
              timeoutMs: step.timeoutMs ?? 1,
              startedAt: command.now,
              recovered: true,
            },
          },
        ];
      }
      return [
        {
          type: 'ToolCallFailed',
          data: {
            stepId: step.id,
            attempt: step.attempts,
            error: { message: 'interrupted: the engine running this call stopped before it answered; it is not repeated automatically', code: 'INTERRUPTED' },
            failureMode: 'SYSTEM',
            retryable: false,
            durationMs: Math.max(0, Date.parse(command.now) - Date.parse(step.startedAt ?? command.now)),
          },
        },
      ];
    }
    case 'GrantApproval':
      return grantApproval(command, state);
    case 'DenyApproval':
      return denyApproval(command, state);
    case 'ExpireApproval':
      return expireApproval(command, state);
    case 'CancelApproval':
      return cancelApproval(command, state);
    case 'EscalateApproval': {
      const { step, gate } = openGate(state, command.approvalId);
      if (command.allowedTargets.length === 0) throw new UnauthorizedError(`role ${command.by.role} may not escalate approvals`);
      if (!gate.eligibleRoles.includes(command.by.role) && command.by.role !== 'admin') {
        throw new UnauthorizedError(`role ${command.by.role} is not among those deciding approval ${gate.approvalId}`);
      }
      const toRoles = command.toRoles ?? command.allowedTargets;
      const beyond = toRoles.filter((r) => !command.allowedTargets.includes(r));
      if (toRoles.length === 0 || beyond.length > 0) {
        throw new UnauthorizedError(`role ${command.by.role} may escalate only to ${command.allowedTargets.join(', ')}`);
      }
      return [{ type: 'ApprovalEscalated', data: { approvalId: gate.approvalId, stepId: step.id, by: command.by, toRoles: [...toRoles], reason: command.reason } }];
    }
    case 'StartConsultation': {
      const { step, gate } = openGate(state, command.approvalId);
      if (gate.consulted) throw new IllegalStateError(`approval ${gate.approvalId}: its automated approvers have answered already`, { approvalId: gate.approvalId });
      const lease = gate.consultation;
      if (lease && lease.leaseUntil > command.now) {
        throw new IllegalStateError(`approval ${gate.approvalId}: ${lease.instance} consults its automated approvers until ${lease.leaseUntil}`, { approvalId: gate.approvalId });
      }
      return [{ type: 'ApproverConsultationStarted', data: { approvalId: gate.approvalId, stepId: step.id, instance: command.instance, startedAt: command.now, leaseUntil: command.leaseUntil } }];
    }
    case 'RecordAutomatedDecision': {
      const { step, gate } = openGate(state, command.approvalId);
      // One answer per request: a late answer from a consultation that was taken over is not a second one.
      if (gate.consulted) throw new IllegalStateError(`approval ${gate.approvalId}: its automated approvers have answered already`, { approvalId: gate.approvalId });
      const ref = { approvalId: gate.approvalId, stepId: step.id };
      const by = { id: `approver:${command.approver}`, role: AUTOMATED_ROLE };
      const handover = (reason: string): RunEvent[] => [{ type: 'ApprovalEscalated', data: { ...ref, by, toRoles: [...gate.eligibleRoles], reason: `handed over to humans: ${reason}` } }];
      switch (command.decision) {
        case 'approve': {
          // An approval it may not give is not an approval: the humans decide (recorded why).
          const refusal = automatedApprovalRefusal(gate.request, command);
          if (refusal) return handover(`${command.approver} answered approve, but ${refusal}`);
          return [{ type: 'ApprovalAutoApproved', data: { ...ref, approver: command.approver, rule: `automated approver ${command.approver}`, reason: command.reason } }];
        }
        case 'deny':
          return [{ type: 'ApprovalDenied', data: { ...ref, approver: by, justification: command.reason } }];
        case 'handover':
          return handover(command.reason);
      }
      return assertNever(command.decision, 'automated decision');
    }
    case 'SkipStep': {
      const step = openStep(state, command.stepId, ['PENDING', 'ROUTED', 'AWAITING_APPROVAL', 'RETRY_WAIT']);
      return [{ type: 'StepSkipped', data: { stepId: step.id, reason: `depends on ${command.becauseOf}, which did not succeed`, becauseOf: command.becauseOf } }];
    }
    case 'CompleteRun': {
      assertRunning(state);
      const open = state.steps.filter((s) => !DONE_STEP.has(s.status));
      if (open.length > 0) throw new IllegalStateError(`run ${state.runId} still has open steps: ${open.map((s) => s.id).join(', ')}`);
      const completed = state.steps.filter((s) => s.status === 'SUCCEEDED');
      const failed = state.steps.filter((s) => s.status === 'FAILED').map((s) => s.id);
      const skipped = state.steps.filter((s) => s.status === 'SKIPPED').map((s) => s.id);
      return [
        {
          type: 'RunAggregated',
          data: {
            outputs: Object.fromEntries(completed.map((s) => [s.id, s.output])),
            completedSteps: completed.map((s) => s.id),
            failedSteps: failed,
            skippedSteps: skipped,
          },
        },
        { type: 'RunCompleted', data: { status: failed.length + skipped.length > 0 ? 'PARTIAL' : 'SUCCEEDED' } },
      ];
    }
    case 'FailRun': {
      assertRunning(state);
      return [
        {
          type: 'RunFailed',
          data: {
            stage: 'EXECUTE',
            error: command.error,
            failureMode: command.failureMode,
            partialResult: partialResult(state, command.failedStep),
          },
        },
      ];
    }
    case 'CancelRun':
      assertMayOperate(state, command.by, command.isAdmin);
      assertRunning(state);
      return [{ type: 'RunCancelled', data: { by: command.by, reason: command.reason } }];
    case 'ResumeRun':
      return resumeRun(command, state);
    default:
      return assertNever(command, 'run command');
  }
}

function resumeRun(command: ResumeRun, state: RunState): RunEvent[] {
  assertMayOperate(state, command.by, command.isAdmin);
  if (state.status !== 'FAILED') {
    throw new IllegalStateError(`run ${state.runId || '(none)'} is ${state.status}: only a FAILED run can be resumed`);
  }
  // A denial stands for the step's input: resuming must not shop for another approver. Only
  // someone who could have decided the gate (an eligible role, not its requester) re-opens it.
  const denied = state.steps.filter((s) => s.status === 'FAILED' && s.gate?.status === 'DENIED');
  const mayReopen = (gate: GateState) => gate.request.requester.id !== command.by.id && gate.eligibleRoles.includes(command.by.role);
  const reopened = denied.filter((s) => s.gate && mayReopen(s.gate));
  const standing = denied.filter((s) => !reopened.includes(s));
  // Under FAIL_FAST or RETRY a denied step left FAILED fails the run again at once: refuse instead.
  if (standing.length > 0 && state.errorStrategy !== 'CONTINUE') {
    throw new UnauthorizedError(
      `step ${standing.map((s) => s.id).join(', ')} was denied; only an eligible approver other than the requester may re-open it by resuming`,
      { runId: state.runId },
    );
  }
  const reopen = reopened.map((s) => ({ stepId: s.id, approvalId: (s.gate as GateState).approvalId }));
  return [{ type: 'RunResumed', data: { by: command.by, reason: command.reason, ...(reopen.length > 0 ? { reopened: reopen } : {}) } }];
}

function startRun(command: StartRun, state: RunState): RunEvent[] {
  if (state.status !== 'NONE') throw new IllegalStateError(`run ${command.runId} already exists`, { runId: command.runId });
  const steps = command.steps.map((s) => ({ ...s, dependsOn: s.dependsOn ?? [] }));
  validatePlan(steps);
  const budget = BudgetLimits.safeParse(command.budget);
  if (!budget.success) throw new ValidationError(`budget is invalid: ${budget.error.issues[0]?.message ?? ''}`);
  return [
    {
      type: 'RunStarted',
      data: {
        runId: command.runId,
        goal: command.goal,
        profile: command.profile,
        requestedBy: command.requestedBy,
        errorStrategy: command.errorStrategy,
        budget: budget.data,
        maxParallel: command.maxParallel,
        deadline: command.deadline,
        workspace: command.workspace,
        playbook: command.playbook,
        idempotencyKey: command.idempotencyKey,
      },
    },
    { type: 'PlanCreated', data: { steps } },
  ];
}

function routeStep(command: RouteStep, state: RunState): RunEvent[] {
  const step = openStep(state, command.stepId, ['PENDING']);
  const blocked = step.dependsOn.filter((d) => findStep(state, d)?.status !== 'SUCCEEDED');
  if (blocked.length > 0) throw new IllegalStateError(`step ${step.id} waits for ${blocked.join(', ')}`);
  const events: RunEvent[] = [{ type: 'StepRouted', data: { stepId: step.id, alternatives: [], ...command.routing } }];
  if (command.approval) {
    events.push({ type: 'ApprovalRequested', data: { stepId: step.id, ...command.approval } as never });
    if (command.autoApproval) {
      events.push({ type: 'ApprovalAutoApproved', data: { stepId: step.id, ...command.autoApproval } });
    }
  }
  return events;
}

function recordToolResult(command: RecordToolResult, state: RunState): RunEvent[] {
  const step = findStep(state, command.stepId);
  if (!step) throw new NotFoundError(`run ${state.runId} has no step ${command.stepId}`);
  // Every started attempt's answer is the truth of what the tool did and is recorded once, even
  // when it comes late (the attempt was given up on as interrupted, superseded by a resume, or
  // the run has ended); evolve decides what it changes. Only the running attempt may retry.
  if (!(step.unanswered ?? []).includes(command.attempt)) {
    throw new IllegalStateError(`step ${step.id} attempt ${command.attempt} was never started or already has a result`, {
      stepId: step.id,
      attempt: command.attempt,
    });
  }
  const current = step.status === 'RUNNING' && step.attempts === command.attempt;
  const { outcome } = command;
  if (outcome.ok) {
    return [{ type: 'ToolCallSucceeded', data: { stepId: step.id, attempt: command.attempt, output: outcome.output, durationMs: outcome.durationMs } }];
  }
  const retryable = outcome.retryable ?? RETRYABLE.has(outcome.failureMode);
  // Only a live run retries: FAIL_FAST never does; RETRY and CONTINUE do until attempts run out.
  const willRetry =
    current && retryable && state.status === 'RUNNING' && state.errorStrategy !== 'FAIL_FAST' && command.attempt < command.retry.maxAttempts;
  const retryAt = willRetry
    ? new Date(Date.parse(command.now) + backoffDelayMs(command.retry, command.attempt, command.random)).toISOString()
    : undefined;
  return [
    {
      type: 'ToolCallFailed',
      data: {
        stepId: step.id,
        attempt: command.attempt,
        error: outcome.error,
        failureMode: outcome.failureMode,
        retryable,
        ...(retryAt ? { retryAt } : {}),
        durationMs: outcome.durationMs,
      },
    },
  ];
}

/** When a running call without a result counts as interrupted: its timeout plus a grace. */
export function overdueAt(step: StepState, graceMs: number): string | undefined {
  if (step.status !== 'RUNNING' || !step.startedAt || step.timeoutMs === undefined) return undefined;
  return new Date(Date.parse(step.startedAt) + step.timeoutMs + graceMs).toISOString();
}

function openGate(state: RunState, approvalId: string, now?: string): { step: StepState; gate: GateState } {
  const found = findGate(state, approvalId);
  if (!found) throw new NotFoundError(`no approval ${approvalId} in run ${state.runId}`, { approvalId });
  if (found.gate.status !== 'OPEN') throw new IllegalStateError(`approval ${approvalId} is closed (${found.gate.status})`, { approvalId });
  if (TERMINAL_RUN.has(state.status)) throw new IllegalStateError(`run ${state.runId} is ${state.status}`);
  if (now && found.gate.request.expiresAt <= now) throw new IllegalStateError(`approval ${approvalId} has expired`, { approvalId });
  return found;
}

function checkVoter(state: RunState, gate: GateState, approver: { id: string; role: string }): void {
  if (approver.id === gate.request.requester.id) {
    throw new UnauthorizedError(`${approver.id} requested this and may not decide it`, { approvalId: gate.approvalId });
  }
  if (!gate.eligibleRoles.includes(approver.role)) {
    throw new UnauthorizedError(`role ${approver.role} may not decide this approval (eligible: ${gate.eligibleRoles.join(', ')})`);
  }
  if (gate.approvers.includes(approver.id)) {
    throw new IllegalStateError(`${approver.id} has already voted on approval ${gate.approvalId}`, { approvalId: gate.approvalId });
  }
  void state;
}

function grantApproval(command: GrantApproval, state: RunState): RunEvent[] {
  const { step, gate } = openGate(state, command.approvalId, command.now);
  checkVoter(state, gate, command.approver);
  if (gate.request.justificationRequired && !command.justification?.trim()) {
    throw new ValidationError(`approval ${gate.approvalId} needs a justification`);
  }
  if (command.editedInput !== undefined) {
    const stricter = editRefusal(gate.request, command.editAssessment);
    if (stricter) throw new ValidationError(`approval ${gate.approvalId}: ${stricter}`, { approvalId: gate.approvalId });
  }
  return [
    {
      type: 'ApprovalGranted',
      data: {
        approvalId: gate.approvalId,
        stepId: step.id,
        approver: command.approver,
        justification: command.justification,
        editedInput: command.editedInput,
      },
    },
  ];
}

function denyApproval(command: DenyApproval, state: RunState): RunEvent[] {
  const { step, gate } = openGate(state, command.approvalId, command.now);
  checkVoter(state, gate, command.approver);
  if (gate.request.justificationRequired && !command.justification?.trim()) {
    throw new ValidationError(`approval ${gate.approvalId} needs a justification`);
  }
  return [
    { type: 'ApprovalDenied', data: { approvalId: gate.approvalId, stepId: step.id, approver: command.approver, justification: command.justification } },
  ];
}

function expireApproval(command: ExpireApproval, state: RunState): RunEvent[] {
  const { step, gate } = openGate(state, command.approvalId);
  if (gate.request.expiresAt > command.now) throw new IllegalStateError(`approval ${gate.approvalId} is not due until ${gate.request.expiresAt}`);
  return [
    {
      type: 'ApprovalExpired',
      data: { approvalId: gate.approvalId, stepId: step.id, outcome: gate.request.onTimeout === 'approve' ? 'approved' : 'denied', expiredAt: command.now },
    },
  ];
}

function cancelApproval(command: CancelApproval, state: RunState): RunEvent[] {
  const { step, gate } = openGate(state, command.approvalId);
  if (!command.isAdmin && command.by.id !== gate.request.requester.id) {
    throw new UnauthorizedError('only the requester or an admin may cancel an approval request');
  }
  return [{ type: 'ApprovalCancelled', data: { approvalId: gate.approvalId, stepId: step.id, by: command.by, reason: command.reason } }];
}

function partialResult(state: RunState, failedStep: string | undefined) {
  return {
    completedSteps: state.steps.filter((s) => s.status === 'SUCCEEDED').map((s) => ({ stepId: s.id, output: s.output })),
    failedStep,
    remainingSteps: state.steps.filter((s) => !DONE_STEP.has(s.status) || s.status === 'FAILED').map((s) => s.id),
  };
}

/** Roles that may cancel or resume any run (besides its requester and admins). */
export const RUN_OPERATOR_ROLES: readonly string[] = ['tech_lead', 'devops_engineer'];

/** A run exists, and `by` is its requester, an operator or an admin. */
function assertMayOperate(state: RunState, by: { id: string; role: string }, isAdmin = false): void {
  if (state.status === 'NONE') throw new NotFoundError('no such run');
  if (isAdmin || state.requestedBy?.id === by.id || RUN_OPERATOR_ROLES.includes(by.role)) return;
  throw new UnauthorizedError(`only the requester of run ${state.runId}, a tech lead, a devops engineer or an admin may do this`, { runId: state.runId });
}

function assertRunning(state: RunState): void {
  if (state.status === 'NONE') throw new NotFoundError('no such run');
  if (state.status !== 'RUNNING') throw new IllegalStateError(`run ${state.runId} is ${state.status}`, { runId: state.runId, status: state.status });
}

function openStep(state: RunState, stepId: string, allowed: ReadonlyArray<StepState['status']>): StepState {
  assertRunning(state);
  const step = findStep(state, stepId);
  if (!step) throw new NotFoundError(`run ${state.runId} has no step ${stepId}`);
  if (!allowed.includes(step.status)) {
    throw new IllegalStateError(`step ${stepId} is ${step.status}; expected ${allowed.join(' or ')}`, { stepId, status: step.status });
  }
  return step;
}
