import type { FailureMode, Principal, RecordedError } from '../../domain/events/common.js';
import { stageOf, type Stage } from '../../domain/events/index.js';
import type { RunStatus, StepStatus } from '../../domain/run/state.js';
import { Collection } from '../documents.js';
import { isoAt, type ProjectedEvent, type Projection } from '../projection.js';

/** One step of a run as the log tells it. */
export interface StepView {
  id: string;
  tool: string;
  domain: string;
  dependsOn: string[];
  status: StepStatus;
  attempts: number;
  worker?: string;
  output?: unknown;
  error?: RecordedError;
  failureMode?: FailureMode;
  retryAt?: string;
  approvalId?: string;
  approvalsRequired?: number;
  approvalsReceived?: number;
  approvalStatus?: 'OPEN' | 'GRANTED' | 'DENIED' | 'EXPIRED_DENIED' | 'CANCELLED';
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

/** A routing decision with the alternatives it rejected. */
export interface RoutingView {
  stepId: string;
  worker: string;
  policy: string;
  reasoning: string;
  alternatives: Array<{ worker: string; score: number; reason: string }>;
  at: string;
}

/**
 * One line of a run's trace: enough to list the audit replay without the payloads. The trace is
 * not kept in the run's document: it is the run's own stream, read on demand (`traceOf`), which
 * the log already indexes; copying every event's header into the read model doubled its size.
 */
export interface TraceEntry {
  position: string;
  revision: number;
  type: string;
  stage: Stage;
  at: string;
  actor: string;
  stepId?: string;
}

/** Weighted progress: finished steps count fully, steps under way partially. */
export interface ProgressView {
  percent: number;
  done: number;
  inFlight: number;
  total: number;
}

/** A run: summary, steps, routing decisions and progress (its trace: `traceOf` its stream). */
export interface RunView {
  runId: string;
  status: RunStatus;
  stage: Stage;
  goal: string;
  profile: string;
  requester?: Principal;
  errorStrategy?: string;
  playbook?: string;
  startedAt: string;
  updatedAt: string;
  endedAt?: string;
  durationMs?: number;
  failure?: { stage: string; error: RecordedError; failureMode?: FailureMode };
  cancelledBy?: Principal;
  steps: StepView[];
  routing: RoutingView[];
  progress: ProgressView;
}

/**
 * How much an unfinished step counts toward progress. Finished (succeeded, failed, skipped) is 1;
 * a call under way or waiting to retry is half done; a step at its gate or routed has begun.
 */
export const STEP_WEIGHT: Readonly<Record<StepStatus, number>> = {
  PENDING: 0,
  ROUTED: 0.1,
  AWAITING_APPROVAL: 0.2,
  RUNNING: 0.5,
  RETRY_WAIT: 0.5,
  SUCCEEDED: 1,
  FAILED: 1,
  SKIPPED: 1,
};

const DONE: ReadonlySet<StepStatus> = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED']);
const IN_FLIGHT: ReadonlySet<StepStatus> = new Set(['ROUTED', 'AWAITING_APPROVAL', 'RUNNING', 'RETRY_WAIT']);

/** The trace of a run from the events of its stream, in stream order. */
export function traceOf(events: Iterable<ProjectedEvent>): TraceEntry[] {
  const trace: TraceEntry[] = [];
  for (const event of events) {
    const entry: TraceEntry = {
      position: event.position,
      revision: event.revision,
      type: event.type,
      stage: stageOf(event.type),
      at: event.recordedAt.toISOString(),
      actor: event.metadata.actor,
    };
    const stepId = (event.data as { stepId?: string }).stepId;
    if (stepId !== undefined) entry.stepId = stepId;
    trace.push(entry);
  }
  return trace;
}

export type RunsState = { readonly runs: Collection<RunView> };

/** Runs: summary, step list, routing decisions and weighted progress per run. */
export const runsProjection: Projection<RunsState> = {
  name: 'runs',
  version: 3,
  eventTypes: [
    'RunStarted', 'PlanCreated', 'StepRouted', 'ApprovalRequested', 'ApprovalGranted', 'ApprovalDenied',
    'ApprovalEscalated', 'ApprovalExpired', 'ApprovalCancelled', 'ApprovalAutoApproved', 'BudgetWarning',
    'BudgetExceeded', 'ToolCallStarted', 'ToolCallSucceeded', 'ToolCallFailed', 'StepSkipped', 'RunAggregated',
    'RunCompleted', 'RunFailed', 'RunCancelled', 'RunResumed',
  ],
  initialState: () => ({ runs: new Collection<RunView>() }),
  evolve(state, event) {
    const runId = event.metadata.correlationId;
    const at = isoAt(event);
    let run = state.runs.get(runId);
    if (event.type === 'RunStarted') {
      const d = event.data;
      // Every member in sorted key order, the optional ones as undefined (JSON leaves them out):
      // canonicalJson then writes the document as it is instead of copying it key-sorted.
      run = state.runs.set(runId, {
        cancelledBy: undefined,
        durationMs: undefined,
        endedAt: undefined,
        errorStrategy: d.errorStrategy,
        failure: undefined,
        goal: d.goal,
        playbook: d.playbook,
        profile: d.profile,
        progress: { done: 0, inFlight: 0, percent: 0, total: 0 },
        requester: d.requestedBy,
        routing: [],
        runId,
        stage: 'INITIALIZE',
        startedAt: at,
        status: 'RUNNING',
        steps: [],
        updatedAt: at,
      });
    }
    if (!run) return state; // an event of a run whose start this log does not hold
    apply(run, event, at);
    run.stage = stageOf(event.type);
    run.updatedAt = at;
    run.progress = progressOf(run);
    state.runs.touch(runId);
    return state;
  },
};

/** A planned step, its members in sorted key order (see RunStarted in evolve). */
function newStep(id: string, tool: string, domain: string, dependsOn: string[]): StepView {
  return {
    approvalId: undefined,
    approvalStatus: undefined,
    approvalsReceived: undefined,
    approvalsRequired: undefined,
    attempts: 0,
    dependsOn,
    domain,
    durationMs: undefined,
    error: undefined,
    failureMode: undefined,
    finishedAt: undefined,
    id,
    output: undefined,
    retryAt: undefined,
    startedAt: undefined,
    status: 'PENDING',
    tool,
    worker: undefined,
  };
}

function findStep(run: RunView, id: string): StepView | undefined {
  const steps = run.steps;
  for (let i = 0; i < steps.length; i++) if ((steps[i] as StepView).id === id) return steps[i];
  return undefined;
}

function apply(run: RunView, event: ProjectedEvent, at: string): void {
  const step = (id: string) => findStep(run, id);
  switch (event.type) {
    case 'RunStarted':
      return;
    case 'PlanCreated':
      run.steps = event.data.steps.map((s) => newStep(s.id, s.tool, s.domain, [...s.dependsOn]));
      return;
    case 'StepRouted': {
      const d = event.data;
      const s = step(d.stepId);
      if (s) {
        s.worker = d.worker;
        if (s.status === 'PENDING') s.status = 'ROUTED';
      }
      run.routing.push({ alternatives: d.alternatives, at, policy: d.policy, reasoning: d.reasoning, stepId: d.stepId, worker: d.worker });
      return;
    }
    case 'ApprovalRequested': {
      const s = step(event.data.stepId);
      if (s) {
        s.status = 'AWAITING_APPROVAL';
        s.approvalId = event.data.approvalId;
        s.approvalsRequired = event.data.requiredApprovals;
        s.approvalsReceived = 0;
        s.approvalStatus = 'OPEN';
      }
      return;
    }
    case 'ApprovalGranted':
    case 'ApprovalAutoApproved':
    case 'ApprovalExpired':
    case 'ApprovalDenied':
    case 'ApprovalCancelled': {
      const s = step(event.data.stepId);
      if (!s || s.approvalId !== event.data.approvalId) return;
      if (event.type === 'ApprovalGranted') s.approvalsReceived = (s.approvalsReceived ?? 0) + 1;
      const passed =
        event.type === 'ApprovalAutoApproved' ||
        (event.type === 'ApprovalExpired' && event.data.outcome === 'approved') ||
        (event.type === 'ApprovalGranted' && (s.approvalsReceived ?? 0) >= (s.approvalsRequired ?? 1));
      const refused = event.type === 'ApprovalDenied' || event.type === 'ApprovalCancelled' || (event.type === 'ApprovalExpired' && event.data.outcome === 'denied');
      if (passed) s.approvalStatus = 'GRANTED';
      if (passed && s.status === 'AWAITING_APPROVAL') s.status = 'ROUTED';
      if (refused) {
        s.approvalStatus = event.type === 'ApprovalDenied' ? 'DENIED' : event.type === 'ApprovalCancelled' ? 'CANCELLED' : 'EXPIRED_DENIED';
        s.status = 'FAILED';
        s.failureMode = 'POLICY';
        s.error =
          event.type === 'ApprovalDenied'
            ? { message: `approval denied by ${event.data.approver.id}`, code: 'APPROVAL_DENIED' }
            : event.type === 'ApprovalCancelled'
              ? { message: `approval cancelled by ${event.data.by.id}`, code: 'APPROVAL_CANCELLED' }
              : { message: 'approval expired', code: 'APPROVAL_DENIED' };
        s.finishedAt = at;
      }
      return;
    }
    case 'ApprovalEscalated':
    case 'BudgetWarning':
    case 'BudgetExceeded':
    case 'RunAggregated':
      return;
    case 'ToolCallStarted': {
      const d = event.data;
      const s = step(d.stepId);
      if (!s) return;
      s.status = 'RUNNING';
      s.attempts = d.attempt;
      s.worker = d.worker;
      s.retryAt = undefined;
      s.startedAt = d.startedAt;
      s.finishedAt = undefined;
      s.durationMs = undefined;
      return;
    }
    case 'ToolCallSucceeded': {
      const d = event.data;
      const s = step(d.stepId);
      // The running attempt's result counts, and so does the latest attempt's success after the
      // engine gave up on it as INTERRUPTED (as the run's fold says); a superseded attempt's does not.
      const latest = s && s.attempts === d.attempt && (s.status === 'RUNNING' || (s.status === 'FAILED' && s.error?.code === 'INTERRUPTED'));
      if (!s || !latest) return;
      s.status = 'SUCCEEDED';
      s.output = d.output;
      s.error = undefined;
      s.failureMode = undefined;
      s.finishedAt = at;
      s.durationMs = d.durationMs;
      return;
    }
    case 'ToolCallFailed': {
      const d = event.data;
      const s = step(d.stepId);
      if (!s) return;
      // The running attempt's result, or a refusal (policy, budget, routing) before the next attempt.
      const current = s.status === 'RUNNING' ? s.attempts === d.attempt : d.attempt === s.attempts + 1;
      if (!current) return;
      s.status = d.retryAt ? 'RETRY_WAIT' : 'FAILED';
      s.retryAt = d.retryAt;
      s.error = d.error;
      s.failureMode = d.failureMode;
      s.durationMs = d.durationMs;
      if (!d.retryAt) s.finishedAt = at;
      return;
    }
    case 'StepSkipped': {
      const s = step(event.data.stepId);
      if (s) {
        s.status = 'SKIPPED';
        s.finishedAt = at;
      }
      return;
    }
    case 'RunCompleted':
      end(run, event.data.status, at);
      return;
    case 'RunFailed':
      run.failure = { stage: event.data.stage, error: event.data.error, failureMode: event.data.failureMode };
      end(run, 'FAILED', at);
      return;
    case 'RunCancelled':
      run.cancelledBy = event.data.by;
      end(run, 'CANCELLED', at);
      return;
    case 'RunResumed': {
      // As the run's fold: a RUNNING step keeps its call, and a denial stands unless re-opened.
      const reopened = new Set((event.data.reopened ?? []).map((r) => r.stepId));
      run.failure = undefined;
      run.endedAt = undefined;
      run.durationMs = undefined;
      run.status = 'RUNNING';
      for (const s of run.steps) {
        const denied = s.status === 'FAILED' && s.approvalStatus === 'DENIED' && !reopened.has(s.id);
        if ((s.status === 'FAILED' && !denied) || s.status === 'SKIPPED' || s.status === 'RETRY_WAIT') {
          s.status = s.approvalStatus === 'GRANTED' ? 'ROUTED' : 'PENDING';
          s.retryAt = undefined;
          s.error = undefined;
          s.failureMode = undefined;
          s.finishedAt = undefined;
          // The domain keeps a granted gate across a resume; any other gate is asked again.
          if (s.approvalStatus !== 'GRANTED') {
            s.approvalId = undefined;
            s.approvalsRequired = undefined;
            s.approvalsReceived = undefined;
            s.approvalStatus = undefined;
          }
        }
      }
      return;
    }
    default: {
      const never: never = event;
      throw new Error(`unexpected event ${JSON.stringify(never)}`);
    }
  }
}

function end(run: RunView, status: RunStatus, at: string): void {
  run.status = status;
  run.endedAt = at;
  run.durationMs = Date.parse(at) - Date.parse(run.startedAt);
}

function progressOf(run: RunView): ProgressView {
  const total = run.steps.length;
  if (total === 0) return { done: 0, inFlight: 0, percent: 0, total: 0 };
  let done = 0;
  let inFlight = 0;
  let weight = 0;
  // A cancelled or failed run's calls under way will not finish: only what finished counts.
  const ended = run.status === 'CANCELLED' || run.status === 'FAILED';
  for (const s of run.steps) {
    if (DONE.has(s.status)) done++;
    else if (IN_FLIGHT.has(s.status)) inFlight++;
    weight += ended && !DONE.has(s.status) ? 0 : STEP_WEIGHT[s.status];
  }
  const percent = run.status === 'SUCCEEDED' || run.status === 'PARTIAL' ? 100 : Math.floor((weight / total) * 1000) / 10;
  return { done, inFlight, percent, total };
}

/** Queries over the runs read model. */
export const runQueries = {
  run(state: RunsState, runId: string): RunView | undefined {
    return state.runs.get(runId);
  },
  /** Runs newest first, optionally by status or profile, `limit` at a time after `cursor` (a run id). */
  list(
    state: RunsState,
    filter: { status?: RunStatus; profile?: string; requester?: string; first?: number; after?: string } = {},
  ): { items: RunView[]; endCursor?: string; hasNextPage: boolean } {
    const all = [...state.runs.values()]
      .filter((r) => (!filter.status || r.status === filter.status) && (!filter.profile || r.profile === filter.profile) && (!filter.requester || r.requester?.id === filter.requester))
      .sort((a, b) => (a.startedAt === b.startedAt ? (a.runId < b.runId ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
    const start = filter.after === undefined ? 0 : all.findIndex((r) => r.runId === filter.after) + 1;
    const first = filter.first ?? 50;
    const items = all.slice(start, start + first);
    return { items, endCursor: items[items.length - 1]?.runId, hasNextPage: start + first < all.length };
  },
};
