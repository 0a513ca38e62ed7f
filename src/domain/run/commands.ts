import type { BudgetLimits, ErrorStrategy, FailureMode, Principal, RecordedError, RiskLevel } from '../events/common.js';
import type { GateRequirements } from '../approvals/edits.js';
import type { RunEventInput } from '../events/index.js';
import type { PlannedStep } from '../events/run-events.js';
import type { RetryPolicy } from './retry.js';

/** Everything a run can be asked to do. Time and randomness come in the command. */
export type RunCommand =
  | StartRun
  | RouteStep
  | RejectStep
  | StartToolCall
  | RecoverToolCall
  | RecordToolResult
  | GrantApproval
  | DenyApproval
  | ExpireApproval
  | CancelApproval
  | EscalateApproval
  | RecordAutomatedDecision
  | StartConsultation
  | SkipStep
  | CompleteRun
  | FailRun
  | CancelRun
  | ResumeRun;

export interface StartRun {
  readonly type: 'StartRun';
  readonly runId: string;
  readonly goal: string;
  readonly profile: string;
  readonly requestedBy: Principal;
  readonly errorStrategy: ErrorStrategy;
  readonly budget: Partial<BudgetLimits>;
  readonly maxParallel: number;
  readonly steps: ReadonlyArray<Omit<PlannedStep, 'dependsOn'> & { dependsOn?: string[] }>;
  readonly deadline?: string;
  readonly workspace?: string;
  readonly playbook?: string;
  readonly idempotencyKey?: string;
}

/** Gives a ready step its worker and, where the policy wants one, opens its approval gate. */
export interface RouteStep {
  readonly type: 'RouteStep';
  readonly stepId: string;
  readonly routing: Omit<RunEventInput<'StepRouted'>, 'stepId'>;
  readonly approval?: Omit<RunEventInput<'ApprovalRequested'>, 'stepId'>;
  readonly autoApproval?: Omit<RunEventInput<'ApprovalAutoApproved'>, 'stepId' | 'approvalId'> & { approvalId: string };
}

/** The step cannot run at all (unknown or disallowed tool, no capable worker): a POLICY failure. */
export interface RejectStep {
  readonly type: 'RejectStep';
  readonly stepId: string;
  readonly error: RecordedError;
}

/** Claims the next attempt of a routed step: budget check, then ToolCallStarted. */
export interface StartToolCall {
  readonly type: 'StartToolCall';
  readonly stepId: string;
  readonly timeoutMs: number;
  readonly now: string;
}

/**
 * A call past its timeout and grace with no result: the engine that ran it is gone. An idempotent
 * tool's attempt is claimed again with the same key; any other fails as INTERRUPTED, not retried.
 */
export interface RecoverToolCall {
  readonly type: 'RecoverToolCall';
  readonly stepId: string;
  readonly attempt: number;
  readonly idempotent: boolean;
  readonly graceMs: number;
  readonly now: string;
}

export type ToolOutcome =
  | { readonly ok: true; readonly output: unknown; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly error: RecordedError;
      readonly failureMode: FailureMode;
      readonly durationMs: number;
      /** Overrides the mode's retryability (an interrupted non-idempotent call must not repeat). */
      readonly retryable?: boolean;
    };

export interface RecordToolResult {
  readonly type: 'RecordToolResult';
  readonly stepId: string;
  readonly attempt: number;
  readonly outcome: ToolOutcome;
  readonly retry: RetryPolicy;
  readonly now: string;
  /** A random number in [0, 1) for the backoff's jitter. */
  readonly random: number;
}

export interface GrantApproval {
  readonly type: 'GrantApproval';
  readonly approvalId: string;
  readonly approver: Principal;
  readonly justification?: string;
  readonly editedInput?: Record<string, unknown>;
  /** The edited input assessed like a new request (by the engine's Gatekeeper); required with an edit. */
  readonly editAssessment?: GateRequirements;
  readonly now: string;
}

export interface DenyApproval {
  readonly type: 'DenyApproval';
  readonly approvalId: string;
  readonly approver: Principal;
  readonly justification?: string;
  readonly now: string;
}

export interface ExpireApproval {
  readonly type: 'ExpireApproval';
  readonly approvalId: string;
  readonly now: string;
}

export interface CancelApproval {
  readonly type: 'CancelApproval';
  readonly approvalId: string;
  readonly by: Principal;
  readonly isAdmin: boolean;
  readonly reason?: string;
}

/** Widens who may decide: `by` must hold a role that may escalate, to `toRoles` it may reach. */
export interface EscalateApproval {
  readonly type: 'EscalateApproval';
  readonly approvalId: string;
  readonly by: Principal;
  /** The roles `by`'s role may escalate to (from the policy). */
  readonly allowedTargets: readonly string[];
  /** Defaults to all of allowedTargets. */
  readonly toRoles?: readonly string[];
  readonly reason?: string;
}

/** An automated approver's answer: approve, deny, or hand over to humans. */
export interface RecordAutomatedDecision {
  readonly type: 'RecordAutomatedDecision';
  readonly approvalId: string;
  readonly approver: string;
  readonly decision: 'approve' | 'deny' | 'handover';
  readonly reason: string;
  /** The highest risk it may approve (its config's maxRisk); critical is refused regardless. */
  readonly ceiling: RiskLevel;
  /** Principals it approves on behalf of (its owner): it may not approve their requests. */
  readonly actsFor?: readonly string[];
}

/** An instance claims the consultation of a gate's automated approvers until `leaseUntil` (claim by append). */
export interface StartConsultation {
  readonly type: 'StartConsultation';
  readonly approvalId: string;
  readonly instance: string;
  readonly now: string;
  readonly leaseUntil: string;
}

export interface SkipStep {
  readonly type: 'SkipStep';
  readonly stepId: string;
  readonly becauseOf: string;
}

/** All steps are done: aggregate the outputs and complete (PARTIAL if anything failed or was skipped). */
export interface CompleteRun {
  readonly type: 'CompleteRun';
}

export interface FailRun {
  readonly type: 'FailRun';
  readonly error: RecordedError;
  readonly failureMode?: FailureMode;
  readonly failedStep?: string;
}

/** Cancelling a run: its requester, an operator role (RUN_OPERATOR_ROLES) or an admin. */
export interface CancelRun {
  readonly type: 'CancelRun';
  readonly by: Principal;
  readonly isAdmin?: boolean;
  readonly reason?: string;
}

/** Resuming a failed run: its requester, an operator role (RUN_OPERATOR_ROLES) or an admin. */
export interface ResumeRun {
  readonly type: 'ResumeRun';
  readonly by: Principal;
  readonly isAdmin?: boolean;
  readonly reason?: string;
}
