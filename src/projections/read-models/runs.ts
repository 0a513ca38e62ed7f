import type { FailureMode, Principal, RecordedError } from '../../domain/events/common.js';
import { stageOf, type Stage } from '../../domain/events/index.js';
import { evolve as evolveRun } from '../../domain/run/evolve.js';
import { gateStatusOf, initialRunState, TERMINAL_RUN, type RunState, type RunStatus, type StepState, type StepStatus } from '../../domain/run/state.js';
import { Collection, type CollectionSpec, type DocumentQuery } from '../documents.js';
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
  /** Over for good: the domain's fold was dropped (SUCCEEDED, PARTIAL, or CANCELLED with nothing unanswered). */
  settled: boolean;
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

/**
 * The runs read model. `runs` holds the documents readers see; `folds` holds the domain's own fold
 * (`evolve`) of each run that can still change, so every status, attempt, output, error and gate
 * in a document is what the decider would see, never a copy of its rules. A fold is dropped once
 * its run is over for good (SUCCEEDED, PARTIAL or CANCELLED with every started attempt answered);
 * a FAILED run keeps it because a resume re-opens it.
 */
export type RunsState = { readonly runs: Collection<RunView>; readonly folds: Collection<RunState> };

/**
 * The runs collection's index columns: every filter and sort of `runs(...)`, and the time after
 * which retention may drop a run (its end, once it is over for good; never for a FAILED run).
 */
const runColumns: CollectionSpec<RunView> = {
  columns: {
    status: (r) => r.status,
    profile: (r) => r.profile,
    requester: (r) => r.requester?.id,
    startedAt: (r) => r.startedAt,
    retireAt: (r) => (r.settled ? r.endedAt : undefined),
  },
  indexes: [['startedAt', 'id'], ['status', 'startedAt', 'id'], ['profile', 'startedAt', 'id'], ['requester', 'startedAt', 'id'], ['retireAt']],
  expiresAt: 'retireAt',
  // `totalCount` by status, profile or requester: a count over their index grew with history
  // (7 ms at 200k runs, on the event loop); a sum over the counted combinations does not.
  counted: ['status', 'profile', 'requester'],
};

/** Runs: summary, step list, routing decisions and weighted progress per run. */
export const runsProjection: Projection<RunsState> = {
  name: 'runs',
  // 5: `settled` (over for good) is in the document, as the column retention reads.
  version: 5,
  eventTypes: [
    'RunStarted', 'PlanCreated', 'StepRouted', 'ApprovalRequested', 'ApprovalGranted', 'ApprovalDenied',
    'ApprovalEscalated', 'ApprovalExpired', 'ApprovalCancelled', 'ApprovalAutoApproved', 'ApproverConsultationStarted', 'BudgetWarning',
    'BudgetExceeded', 'ToolCallStarted', 'ToolCallSucceeded', 'ToolCallFailed', 'StepSkipped', 'RunAggregated',
    'RunCompleted', 'RunFailed', 'RunCancelled', 'RunResumed',
  ],
  initialState: () => ({ runs: new Collection<RunView>(runColumns), folds: new Collection<RunState>({ perRun: true }) }),
  evolve(state, event) {
    const runId = event.metadata.correlationId;
    const at = isoAt(event);
    let run = state.runs.get(runId);
    let before = state.folds.get(runId);
    if (event.type === 'RunStarted') {
      const d = event.data;
      before = initialRunState();
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
        settled: false,
        stage: 'INITIALIZE',
        startedAt: at,
        status: 'RUNNING',
        steps: [],
        updatedAt: at,
      });
    }
    if (!run) return state; // an event of a run whose start this log does not hold
    // Without a fold the run was over for good: the decider appends nothing more to it.
    if (before) {
      const after = evolveRun(before, event);
      apply(run, before, after, event, at);
      if (TERMINAL_RUN.has(after.status) && after.status !== 'FAILED' && !after.steps.some((s) => (s.unanswered ?? []).length > 0)) {
        state.folds.delete(runId);
        run.settled = true;
      } else state.folds.set(runId, after);
    }
    run.stage = stageOf(event.type);
    run.updatedAt = at;
    run.progress = progressOf(run);
    state.runs.touch(runId);
    return state;
  },
};

/** A planned step, its members in sorted key order (see RunStarted in evolve). */
function newStep(s: StepState): StepView {
  return {
    approvalId: undefined,
    approvalStatus: undefined,
    approvalsReceived: undefined,
    approvalsRequired: undefined,
    attempts: s.attempts,
    dependsOn: [...s.dependsOn],
    domain: s.domain,
    durationMs: undefined,
    error: undefined,
    failureMode: undefined,
    finishedAt: undefined,
    id: s.id,
    output: undefined,
    retryAt: undefined,
    startedAt: undefined,
    status: s.status,
    tool: s.tool,
    worker: undefined,
  };
}

/**
 * Brings the document to the domain's fold `after` (was `before`): the fold decides every status;
 * only what the domain does not compute is added here (routing, who cancelled, times, progress).
 */
function apply(run: RunView, before: RunState, after: RunState, event: ProjectedEvent, at: string): void {
  if (event.type === 'PlanCreated') run.steps = after.steps.map(newStep);
  if (event.type === 'StepRouted') {
    const d = event.data;
    run.routing.push({ alternatives: d.alternatives, at, policy: d.policy, reasoning: d.reasoning, stepId: d.stepId, worker: d.worker });
  }
  if (event.type === 'RunCancelled') run.cancelledBy = event.data.by;
  const result = event.type === 'ToolCallSucceeded' || event.type === 'ToolCallFailed' ? event.data : undefined;
  if (after.steps !== before.steps) {
    for (let i = 0; i < after.steps.length; i++) {
      const now = after.steps[i] as StepState;
      const was = before.steps[i];
      const view = run.steps[i];
      if (now === was || !view) continue;
      // A result the fold took (not a late one it only marked answered) ends or pauses the call.
      const taken = result !== undefined && was !== undefined && (now.status !== was.status || now.output !== was.output || now.error !== was.error);
      if (event.type === 'ToolCallStarted') {
        view.finishedAt = undefined;
        view.durationMs = undefined;
      }
      if (taken) view.durationMs = result.durationMs;
      view.finishedAt = DONE.has(now.status) ? (taken || !was || !DONE.has(was.status) ? at : view.finishedAt) : undefined;
      view.status = now.status;
      view.attempts = now.attempts;
      view.worker = now.worker;
      view.output = now.output;
      view.error = now.error;
      view.failureMode = now.failureMode;
      view.retryAt = now.retryAt;
      view.startedAt = now.startedAt;
      view.approvalId = now.gate?.approvalId;
      view.approvalsRequired = now.gate?.request.requiredApprovals;
      view.approvalsReceived = now.gate?.approvers.length;
    }
  }
  // A gate's status depends on the run's too (gateStatusOf): read it again for every step.
  for (let i = 0; i < after.steps.length; i++) {
    const gate = (after.steps[i] as StepState).gate;
    const view = run.steps[i];
    if (view) view.approvalStatus = gate ? gateStatusOf(after, gate) : undefined;
  }
  run.status = after.status;
  run.failure = after.failure;
  if (!TERMINAL_RUN.has(after.status)) {
    run.endedAt = undefined;
    run.durationMs = undefined;
  } else if (!TERMINAL_RUN.has(before.status)) {
    run.endedAt = at;
    run.durationMs = Date.parse(at) - Date.parse(run.startedAt);
  }
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

/** The filters of a runs listing (all optional) and its keyset page. */
export interface RunsFilter {
  status?: string;
  profile?: string;
  requester?: string;
  /** ISO instants: startedAt >= startedAfter, startedAt < startedBefore. */
  startedAfter?: string;
  startedBefore?: string;
  first: number;
  /** The (startedAt, runId) of the previous page's last run. */
  after?: readonly [string, string];
}

/** The store query for a listing without its page (for counting) or with it. */
function runsQuery(f: Omit<RunsFilter, 'first' | 'after'>): DocumentQuery {
  const equals: Record<string, string> = {};
  if (f.status) equals.status = f.status;
  if (f.profile) equals.profile = f.profile;
  if (f.requester) equals.requester = f.requester;
  return {
    equals,
    atLeast: f.startedAfter ? { startedAt: f.startedAfter } : undefined,
    below: f.startedBefore ? { startedAt: f.startedBefore } : undefined,
  };
}

/** Queries over the runs read model. */
export const runQueries = {
  run(state: RunsState, runId: string): RunView | undefined {
    return state.runs.get(runId);
  },
  /** Runs newest first (startedAt, then runId, descending), filtered, one keyset page: one indexed SQL query. */
  list(state: RunsState, filter: RunsFilter): { items: RunView[]; hasNextPage: boolean } {
    const rows = state.runs.find({ ...runsQuery(filter), orderBy: ['startedAt', 'id'], descending: true, after: filter.after, limit: filter.first + 1 });
    return { items: rows.slice(0, filter.first), hasNextPage: rows.length > filter.first };
  },
  /** How many runs match the filters (a count over an index: asked for only when wanted). */
  count(state: RunsState, filter: Omit<RunsFilter, 'first' | 'after'>): number {
    return state.runs.count(runsQuery(filter));
  },
};
