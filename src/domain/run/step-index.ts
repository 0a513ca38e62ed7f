import type { StepState, StepStatus } from './state.js';

/**
 * What `evolve` keeps beside a run's steps so that `nextActions` and step lookups never scan every
 * step: a decision's work then depends on the steps still in play, not on how many have finished
 * (a run was O(steps²) when each decision scanned the whole plan). Part of the fold's state, so it
 * is as true as the steps it indexes and nothing lives outside the fold. It is derived, so it is
 * never stored: `toJSON` drops it from a stored state (the runs read model keeps run states as
 * JSON documents), and `stepIndexOf` rebuilds it from the steps of a state read back.
 */
export class StepIndex {
  constructor(
    /**
     * The steps array this index was built for. A state whose `steps` is another array (built by
     * spreading a state with new steps, outside `evolve`) is not trusted with this index: it gets
     * one built from its own steps, so a stale index can never hide or misplace a step.
     */
    readonly steps: readonly StepState[],
    /** Plan position of each step id (fixed by PlanCreated; shared by every later state). */
    readonly position: ReadonlyMap<string, number>,
    /** Plan positions of the steps that depend on each step (fixed by PlanCreated; shared). */
    readonly dependents: readonly (readonly number[])[],
    /**
     * Plan positions, ascending, of the steps `nextActions` must look at: every step not done, except
     * a PENDING one that can neither be routed (a dependency has not succeeded yet) nor skipped (no
     * dependency failed or was skipped).
     */
    readonly live: readonly number[],
    /** Plan positions, ascending, of the FAILED steps. */
    readonly failed: readonly number[],
    /** How many steps are RUNNING. */
    readonly running: number,
    /** How many steps are done (SUCCEEDED, FAILED or SKIPPED). */
    readonly done: number,
  ) {}

  /** Derived from the steps: left out of a stored state (JSON writes no member for undefined). */
  toJSON(): undefined {
    return undefined;
  }
}

/** A state's index; a state read back from JSON has none, and gets one built from its steps. */
export function stepIndexOf(state: { readonly steps: readonly StepState[]; readonly index?: StepIndex }): StepIndex {
  return state.index instanceof StepIndex && state.index.steps === state.steps ? state.index : buildStepIndex(state.steps);
}

const DONE: ReadonlySet<StepStatus> = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED']);

/** The index of a run with no plan yet. */
export function emptyStepIndex(steps: readonly StepState[]): StepIndex {
  return new StepIndex(steps, new Map(), [], [], [], 0, 0);
}

/** The whole index for `steps` (a plan, or a resume that reopened many steps at once). */
export function buildStepIndex(steps: readonly StepState[], fixed?: Pick<StepIndex, 'position' | 'dependents'>): StepIndex {
  const position = fixed?.position ?? new Map(steps.map((s, i) => [s.id, i]));
  const dependents = fixed?.dependents ?? dependentsByPosition(steps, position);
  const live: number[] = [];
  const failed: number[] = [];
  let running = 0;
  let done = 0;
  steps.forEach((s, i) => {
    if (isLive(steps, position, s)) live.push(i);
    if (s.status === 'FAILED') failed.push(i);
    if (s.status === 'RUNNING') running++;
    if (DONE.has(s.status)) done++;
  });
  return new StepIndex(steps, position, dependents, live, failed, running, done);
}

/**
 * The index after the step at `at` changed from `before` to the step now in `steps` (a copy with
 * the new step in place). Touches only that step and, when it entered or left a done status, its
 * dependents.
 */
export function reindexStep(index: StepIndex, steps: readonly StepState[], at: number, before: StepStatus): StepIndex {
  const after = (steps[at] as StepState).status;
  if (after === before) return new StepIndex(steps, index.position, index.dependents, index.live, index.failed, index.running, index.done);
  const membership: Array<[number, boolean]> = [[at, isLive(steps, index.position, steps[at] as StepState)]];
  // A dependent's fate (route, skip, or wait) changes only when a dependency enters or leaves a done status.
  if (DONE.has(before) || DONE.has(after)) {
    for (const d of index.dependents[at] ?? []) membership.push([d, isLive(steps, index.position, steps[d] as StepState)]);
  }
  return new StepIndex(
    steps,
    index.position,
    index.dependents,
    withMembers(index.live, membership),
    before === 'FAILED' || after === 'FAILED' ? withMembers(index.failed, [[at, after === 'FAILED']]) : index.failed,
    index.running + (after === 'RUNNING' ? 1 : 0) - (before === 'RUNNING' ? 1 : 0),
    index.done + (DONE.has(after) ? 1 : 0) - (DONE.has(before) ? 1 : 0),
  );
}

/** Whether `nextActions` has something to consider for the step (see `StepIndex.live`). */
function isLive(steps: readonly StepState[], position: ReadonlyMap<string, number>, step: StepState): boolean {
  if (DONE.has(step.status)) return false;
  if (step.status !== 'PENDING') return true;
  let allSucceeded = true;
  for (const id of step.dependsOn) {
    const dep = steps[position.get(id) as number] as StepState;
    if (dep.status === 'FAILED' || dep.status === 'SKIPPED') return true;
    if (dep.status !== 'SUCCEEDED') allSucceeded = false;
  }
  return allSucceeded;
}

function dependentsByPosition(steps: readonly StepState[], position: ReadonlyMap<string, number>): number[][] {
  const out: number[][] = steps.map(() => []);
  steps.forEach((s, i) => {
    for (const id of s.dependsOn) {
      const p = position.get(id);
      if (p !== undefined) out[p]?.push(i);
    }
  });
  return out;
}

/** A sorted list of positions with each given one added or removed; the same list when nothing changes. */
function withMembers(list: readonly number[], changes: ReadonlyArray<readonly [number, boolean]>): readonly number[] {
  let out: number[] | undefined;
  for (const [p, member] of changes) {
    const current = out ?? list;
    const i = lowerBound(current, p);
    const present = current[i] === p;
    if (present === member) continue;
    out ??= list.slice();
    if (member) out.splice(i, 0, p);
    else out.splice(i, 1);
  }
  return out ?? list;
}

function lowerBound(list: readonly number[], p: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
