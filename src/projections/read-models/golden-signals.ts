import type { FailureMode } from '../../domain/events/common.js';
import { canonicalJson } from '../../domain/audit/canonical-json.js';
import { Collection, type DocumentCodec } from '../documents.js';
import type { Projection } from '../projection.js';
import { decodeHistogram, encodeHistogram, type Histogram, newHistogram, percentiles, recordClamped } from './histogram.js';

/** Counters and histograms of one group (overall, a tool, a worker, a profile) over a span of time. */
export interface Signals {
  calls: number;
  successes: number;
  failures: Partial<Record<FailureMode, number>>;
  /** Call durations in microseconds, one sample per finished attempt. */
  latencyUs: Histogram | null;
  /** Time from request to decision of approval gates, in milliseconds. */
  approvalWaitMs: Histogram | null;
  approvals: Partial<Record<'granted' | 'denied' | 'expired_approved' | 'expired_denied' | 'auto_approved', number>>;
  runs: Partial<Record<'SUCCEEDED' | 'PARTIAL' | 'FAILED' | 'CANCELLED', number>>;
}

/** A window bucket: the signals of a group between `start` and `start + span`. */
export interface SignalsBucket extends Signals {
  group: string;
  span: WindowSpan;
  start: number;
}

/** What the fold remembers of a run to attribute results: its profile, each step's tool and worker. */
interface RunContext {
  profile: string;
  steps: Record<string, { tool: string; worker?: string; started?: number; requestedAt?: number; required?: number; granted?: number }>;
}

/** Bucket widths of the sliding windows: 1-minute buckets for "last 5 min", 5-minute ones for "last hour". */
export const WINDOWS = {
  '5m': { span: '1m', bucketMs: 60_000, windowMs: 5 * 60_000 },
  '1h': { span: '5m', bucketMs: 5 * 60_000, windowMs: 60 * 60_000 },
} as const;
export type WindowName = keyof typeof WINDOWS;
type WindowSpan = (typeof WINDOWS)[WindowName]['span'];

const signalsCodec = <T extends Signals>(): DocumentCodec<T> => ({
  encode: (doc) =>
    canonicalJson({
      ...doc,
      latencyUs: doc.latencyUs ? encodeHistogram(doc.latencyUs) : null,
      approvalWaitMs: doc.approvalWaitMs ? encodeHistogram(doc.approvalWaitMs) : null,
    }),
  decode: (text) => {
    const raw = JSON.parse(text) as Omit<T, 'latencyUs' | 'approvalWaitMs'> & { latencyUs: string | null; approvalWaitMs: string | null };
    return {
      ...raw,
      latencyUs: raw.latencyUs ? decodeHistogram(raw.latencyUs) : null,
      approvalWaitMs: raw.approvalWaitMs ? decodeHistogram(raw.approvalWaitMs) : null,
    } as unknown as T;
  },
});

export type GoldenSignalsState = {
  readonly totals: Collection<Signals>;
  readonly windows: Collection<SignalsBucket>;
  readonly context: Collection<RunContext>;
  /** `watermark`: the newest recordedAt seen; windows are pruned against it, never the wall clock. */
  readonly clock: Collection<{ at: number }>;
};

const emptySignals = (): Signals => ({ calls: 0, successes: 0, failures: {}, latencyUs: null, approvalWaitMs: null, approvals: {}, runs: {} });

/**
 * Golden signals per tool, worker, profile and overall: calls, success and error rates by failure
 * mode, latency and approval-wait percentiles (HDR histograms), runs by outcome; over all time and
 * over sliding windows of event time (recordedAt), so a rebuild gives the same numbers.
 */
export const goldenSignalsProjection: Projection<GoldenSignalsState> = {
  name: 'golden-signals',
  version: 2,
  eventTypes: [
    'RunStarted', 'PlanCreated', 'StepRouted', 'ApprovalRequested', 'ApprovalGranted', 'ApprovalDenied', 'ApprovalExpired',
    'ApprovalAutoApproved', 'ToolCallStarted', 'ToolCallSucceeded', 'ToolCallFailed', 'RunCompleted', 'RunFailed', 'RunCancelled',
  ],
  initialState: () => ({
    // Groups (tools, workers, profiles), the buckets of the last hour and the watermark stay in
    // memory: bounded by configuration and by time, not by history. A run's context is paged out.
    totals: new Collection<Signals>({ codec: signalsCodec<Signals>(), resident: true }),
    windows: new Collection<SignalsBucket>({ codec: signalsCodec<SignalsBucket>(), resident: true }),
    context: new Collection<RunContext>({ perRun: true }),
    clock: new Collection<{ at: number }>({ resident: true }),
  }),
  evolve(state, event) {
    const runId = event.metadata.correlationId;
    const at = event.recordedAt.getTime();
    advanceClock(state, at);
    if (event.type === 'RunStarted') {
      state.context.set(runId, { profile: event.data.profile, steps: {} });
      return state;
    }
    const run = state.context.get(runId);
    if (!run) return state;
    const groupsOf = (stepId: string | undefined, withWorker: boolean): string[] => {
      const step = stepId === undefined ? undefined : run.steps[stepId];
      const groups = ['overall', `profile:${run.profile}`];
      if (step) groups.push(`tool:${step.tool}`);
      if (step?.worker && withWorker) groups.push(`worker:${step.worker}`);
      return groups;
    };
    switch (event.type) {
      case 'PlanCreated':
        for (const s of event.data.steps) run.steps[s.id] = { tool: s.tool };
        state.context.touch(runId);
        return state;
      case 'StepRouted':
      case 'ToolCallStarted': {
        const step = run.steps[event.data.stepId];
        if (!step) return state;
        step.worker = event.data.worker;
        if (event.type === 'ToolCallStarted') step.started = event.data.attempt;
        state.context.touch(runId);
        return state;
      }
      case 'ApprovalRequested': {
        const step = run.steps[event.data.stepId];
        if (!step) return state;
        step.requestedAt = at;
        step.required = event.data.requiredApprovals;
        step.granted = 0;
        state.context.touch(runId);
        return state;
      }
      case 'ApprovalGranted':
      case 'ApprovalDenied':
      case 'ApprovalExpired':
      case 'ApprovalAutoApproved': {
        const step = run.steps[event.data.stepId];
        if (!step || step.requestedAt === undefined) return state;
        if (event.type === 'ApprovalGranted') {
          step.granted = (step.granted ?? 0) + 1;
          if (step.granted < (step.required ?? 1)) {
            state.context.touch(runId);
            return state; // the gate waits for more votes: not decided yet
          }
        }
        const outcome =
          event.type === 'ApprovalGranted' ? 'granted'
          : event.type === 'ApprovalDenied' ? 'denied'
          : event.type === 'ApprovalAutoApproved' ? 'auto_approved'
          : event.data.outcome === 'approved' ? 'expired_approved' : 'expired_denied';
        const wait = at - step.requestedAt;
        step.requestedAt = undefined;
        state.context.touch(runId);
        record(state, groupsOf(event.data.stepId, true), at, (s) => {
          s.approvals[outcome] = (s.approvals[outcome] ?? 0) + 1;
          recordClamped((s.approvalWaitMs ??= newHistogram()), wait);
        });
        return state;
      }
      case 'ToolCallSucceeded': {
        const durationUs = event.data.durationMs * 1000;
        record(state, groupsOf(event.data.stepId, true), at, (s) => {
          s.calls++;
          s.successes++;
          recordClamped((s.latencyUs ??= newHistogram()), durationUs);
        });
        return state;
      }
      case 'ToolCallFailed': {
        const d = event.data;
        // A refusal before the call (budget, policy) was never started: it has no worker and no latency.
        const started = run.steps[d.stepId]?.started === d.attempt;
        record(state, groupsOf(d.stepId, started), at, (s) => {
          s.calls++;
          s.failures[d.failureMode] = (s.failures[d.failureMode] ?? 0) + 1;
          if (started) recordClamped((s.latencyUs ??= newHistogram()), d.durationMs * 1000);
        });
        return state;
      }
      case 'RunCompleted':
      case 'RunFailed':
      case 'RunCancelled': {
        const outcome = event.type === 'RunCompleted' ? event.data.status : event.type === 'RunFailed' ? 'FAILED' : 'CANCELLED';
        record(state, groupsOf(undefined, false), at, (s) => {
          s.runs[outcome] = (s.runs[outcome] ?? 0) + 1;
        });
        // A completed or cancelled run is over for good: forget its context. A failed one may be
        // resumed and call its steps again.
        if (event.type !== 'RunFailed') state.context.delete(runId);
        return state;
      }
      default:
        return state;
    }
  },
};

/** Applies `change` to the all-time signals and the current window buckets of every group. */
const WINDOW_LIST = Object.values(WINDOWS);

function record(state: GoldenSignalsState, groups: readonly string[], at: number, change: (s: Signals) => void): void {
  for (const group of groups) {
    const total = state.totals.get(group) ?? state.totals.set(group, emptySignals());
    change(total);
    state.totals.touch(group);
    for (const { span, bucketMs } of WINDOW_LIST) {
      const start = at - (at % bucketMs);
      const id = `${span}|${start}|${group}`;
      const bucket = state.windows.get(id) ?? state.windows.set(id, { ...emptySignals(), group, span, start });
      change(bucket);
      state.windows.touch(id);
    }
  }
}

/** Moves the watermark forward; when it enters a new minute, drops buckets no window can reach. */
function advanceClock(state: GoldenSignalsState, at: number): void {
  const watermark = state.clock.get('watermark');
  const previous = watermark?.at ?? 0;
  if (at <= previous) return;
  if (watermark) {
    watermark.at = at;
    state.clock.touch('watermark');
  } else state.clock.set('watermark', { at });
  if (Math.floor(at / 60_000) === Math.floor(previous / 60_000)) return;
  for (const [id, bucket] of [...state.windows.entries()]) {
    const w = bucket.span === '1m' ? WINDOWS['5m'] : WINDOWS['1h'];
    if (bucket.start + w.bucketMs <= at - w.windowMs) state.windows.delete(id);
  }
}

/** What a dashboard shows for a group. */
export interface SignalsReport {
  group: string;
  window: 'all' | WindowName;
  calls: number;
  successRate: number;
  errorRate: number;
  errorsByMode: Partial<Record<FailureMode, { count: number; rate: number }>>;
  latencyMs: { count: number; p50: number; p95: number; p99: number; max: number };
  approvalWaitMs: { count: number; p50: number; p95: number; p99: number; max: number };
  approvals: Signals['approvals'];
  runs: Signals['runs'];
  /** Calls per second over the window (absent for all time). */
  throughput?: number;
}

function report(group: string, window: SignalsReport['window'], parts: readonly Signals[], windowMs?: number): SignalsReport {
  const calls = parts.reduce((n, p) => n + p.calls, 0);
  const successes = parts.reduce((n, p) => n + p.successes, 0);
  const errorsByMode: SignalsReport['errorsByMode'] = {};
  const approvals: Signals['approvals'] = {};
  const runs: Signals['runs'] = {};
  for (const p of parts) {
    for (const [mode, n] of Object.entries(p.failures) as Array<[FailureMode, number]>) {
      const e = (errorsByMode[mode] ??= { count: 0, rate: 0 });
      e.count += n;
    }
    for (const [k, n] of Object.entries(p.approvals) as Array<[keyof Signals['approvals'], number]>) approvals[k] = (approvals[k] ?? 0) + n;
    for (const [k, n] of Object.entries(p.runs) as Array<[keyof Signals['runs'], number]>) runs[k] = (runs[k] ?? 0) + n;
  }
  for (const e of Object.values(errorsByMode)) if (e) e.rate = calls ? e.count / calls : 0;
  return {
    group,
    window,
    calls,
    successRate: calls ? successes / calls : 0,
    errorRate: calls ? (calls - successes) / calls : 0,
    errorsByMode,
    latencyMs: percentiles(parts.flatMap((p) => (p.latencyUs ? [p.latencyUs] : [])), 1000),
    approvalWaitMs: percentiles(parts.flatMap((p) => (p.approvalWaitMs ? [p.approvalWaitMs] : []))),
    approvals,
    runs,
    throughput: windowMs ? calls / (windowMs / 1000) : undefined,
  };
}

/** Queries over golden signals. Groups are `overall`, `tool:<name>`, `worker:<name>`, `profile:<name>`. */
export const goldenSignalQueries = {
  groups(state: GoldenSignalsState): string[] {
    return [...state.totals.entries()].map(([g]) => g).sort();
  },
  /**
   * A group's signals over all time, or over the last 5 minutes / hour before `now` (ISO; whole
   * buckets of 1 and 5 minutes that overlap the window).
   */
  signals(state: GoldenSignalsState, group: string, options: { window?: WindowName; now?: string } = {}): SignalsReport | undefined {
    const total = state.totals.get(group);
    if (!total) return undefined;
    if (!options.window) return report(group, 'all', [total]);
    const w = WINDOWS[options.window];
    const now = options.now ? Date.parse(options.now) : (state.clock.get('watermark')?.at ?? 0);
    const parts = [...state.windows.values()].filter((b) => b.group === group && b.span === w.span && b.start + w.bucketMs > now - w.windowMs && b.start <= now);
    return report(group, options.window, parts, w.windowMs);
  },
};
