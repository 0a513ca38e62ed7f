import type { BudgetLimits, ErrorStrategy, FailureMode, Principal, RecordedError } from '../events/common.js';
import type { RunEventData } from '../events/index.js';
import { emptyStepIndex, type StepIndex, stepIndexOf } from './step-index.js';

/** Where a run is in its life; terminal ones never change again (RESUME reopens FAILED only). */
export type RunStatus = 'NONE' | 'RUNNING' | 'SUCCEEDED' | 'PARTIAL' | 'FAILED' | 'CANCELLED';

/** Where one step is. */
export type StepStatus =
  | 'PENDING' // waiting for its dependencies, or ready and not yet routed
  | 'ROUTED' // has a worker; may start once its gate (if any) is passed
  | 'AWAITING_APPROVAL'
  | 'RUNNING' // a ToolCallStarted with no result yet
  | 'RETRY_WAIT' // failed, retryable, next attempt due at retryAt
  | 'SUCCEEDED'
  | 'FAILED'
  | 'SKIPPED';

/** An approval gate on a step, as the log tells it. */
export interface GateState {
  readonly approvalId: string;
  readonly status: 'OPEN' | 'GRANTED' | 'DENIED' | 'EXPIRED_DENIED' | 'CANCELLED';
  readonly request: RunEventData<'ApprovalRequested'>;
  readonly eligibleRoles: readonly string[];
  readonly approvers: readonly string[];
  /** The input the quorum approved, when it is not the requested one (set once the gate is GRANTED). */
  readonly editedInput?: Record<string, unknown>;
  /** Votes so far, by the hash of the input each approved. */
  readonly votes?: Readonly<Record<string, number>>;
  /** An automated approver has answered (approved, denied or handed over to humans). */
  readonly consulted: boolean;
  /** The latest claim of the consultation: which instance asks, and until when no other may. */
  readonly consultation?: { readonly instance: string; readonly leaseUntil: string };
  readonly escalated: boolean;
}

export interface StepState {
  readonly id: string;
  readonly tool: string;
  readonly input: Record<string, unknown>;
  readonly domain: string;
  readonly dependsOn: readonly string[];
  readonly status: StepStatus;
  readonly worker?: string;
  /** Attempts started so far. */
  readonly attempts: number;
  /**
   * Attempts started whose tool has not answered yet (an INTERRUPTED failure is the engine giving
   * up, not the tool's answer): their answer is still recorded when it comes, exactly once.
   */
  readonly unanswered?: readonly number[];
  readonly retryAt?: string;
  readonly output?: unknown;
  readonly error?: RecordedError;
  readonly failureMode?: FailureMode;
  readonly gate?: GateState;
  /** A call's start time, to tell how long it has run. */
  readonly startedAt?: string;
  readonly timeoutMs?: number;
}

/** The input a step's tool call runs with: the approver's edit if the gate has one, else the plan's. */
export function inputToRun(step: StepState): Record<string, unknown> {
  return step.gate?.editedInput ?? step.input;
}

export interface BudgetUsage {
  readonly total: number;
  readonly perDomain: Readonly<Record<string, number>>;
  readonly perTool: Readonly<Record<string, number>>;
  /** Scope keys (`total`, `domain:x`, `tool:y`) already warned or exceeded: each is said once. */
  readonly warned: readonly string[];
  readonly exceeded: readonly string[];
}

/** A run: only ever the fold of its stream. */
export interface RunState {
  readonly status: RunStatus;
  readonly runId: string;
  readonly goal: string;
  readonly profile: string;
  readonly requestedBy?: Principal;
  readonly errorStrategy: ErrorStrategy;
  readonly budget: BudgetLimits;
  readonly maxParallel: number;
  readonly deadline?: string;
  readonly workspace?: string;
  readonly startedAt?: string;
  /** Steps in plan order. */
  readonly steps: readonly StepState[];
  /** Where each step is in `steps` and which steps are in play, kept by evolve; not stored (see StepIndex). */
  readonly index: StepIndex;
  readonly usage: BudgetUsage;
  readonly failure?: { readonly error: RecordedError; readonly failureMode?: FailureMode; readonly stage: string };
  readonly aggregated: boolean;
  /** How many events the fold has seen: the stream's revision + 1. */
  readonly version: number;
}

export function initialRunState(): RunState {
  // Every member present from the start, the optional ones undefined: every state of every run
  // then has one shape, and the copy evolve makes per event stays on V8's fast path.
  const steps: StepState[] = [];
  return {
    status: 'NONE',
    runId: '',
    goal: '',
    profile: '',
    requestedBy: undefined,
    errorStrategy: 'FAIL_FAST',
    budget: { perDomain: {}, perTool: {}, onExceed: 'block' },
    maxParallel: 1,
    deadline: undefined,
    workspace: undefined,
    startedAt: undefined,
    steps,
    index: emptyStepIndex(steps),
    usage: { total: 0, perDomain: {}, perTool: {}, warned: [], exceeded: [] },
    failure: undefined,
    aggregated: false,
    version: 0,
  };
}

export const TERMINAL_RUN: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED']);
export const DONE_STEP: ReadonlySet<StepStatus> = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED']);

/** A step by id, through the index (a state whose index does not match, e.g. built by hand, is scanned). */
export function findStep(state: RunState, stepId: string): StepState | undefined {
  const at = stepIndexOf(state).position.get(stepId);
  const step = at === undefined ? undefined : state.steps[at];
  return step?.id === stepId ? step : state.steps.find((s) => s.id === stepId);
}

export function findGate(state: RunState, approvalId: string): { step: StepState; gate: GateState } | undefined {
  for (const step of state.steps) if (step.gate?.approvalId === approvalId) return { step, gate: step.gate };
  return undefined;
}

/**
 * A gate's status as anyone outside the fold should read it. The fold leaves a gate OPEN when its
 * run ends before anyone decided it, but nobody can decide it then (the decider refuses every vote
 * on a terminal run): it reads CANCELLED. A FAILED run's gate reads OPEN again if the run is
 * resumed, because the fold's gate is untouched.
 */
export function gateStatusOf(state: Pick<RunState, 'status'>, gate: Pick<GateState, 'status'>): GateState['status'] {
  return gate.status === 'OPEN' && (state.status === 'CANCELLED' || state.status === 'FAILED') ? 'CANCELLED' : gate.status;
}

/** The stream a run lives in. */
export function runStreamId(runId: string): string {
  return `run-${runId}`;
}
