import type { BudgetLimits } from '../../domain/events/common.js';
import { countCall, scopeKey } from '../../domain/run/budget.js';
import { Collection } from '../documents.js';
import { isoAt, type Projection } from '../projection.js';

/** A warning or an excess as the log recorded it. */
export interface BudgetNotice {
  scope: string;
  used: number;
  limit: number;
  at: string;
  percent?: number;
  action?: 'warn' | 'block';
  stepId?: string;
}

/** A run's budget: its limits, its calls so far, and what was said about them. */
export interface RunBudget {
  runId: string;
  profile: string;
  live: boolean;
  limits: BudgetLimits;
  used: { total: number; perDomain: Record<string, number>; perTool: Record<string, number> };
  /** Step id -> budget domain, from the plan: calls are counted against the step's domain. */
  domains: Record<string, string>;
  warnings: BudgetNotice[];
  exceedances: BudgetNotice[];
}

/** One counter of a profile: calls over all time, and its live runs' use against their limits. */
export interface ProfileCounter {
  calls: number;
  warnings: number;
  exceeded: number;
  blocked: number;
  liveUsed: number;
  liveLimit: number;
}

/** A profile's budgets summed over its runs. */
export interface ProfileBudget {
  profile: string;
  runs: number;
  liveRuns: number;
  scopes: Record<string, ProfileCounter>;
}

export type BudgetsState = { readonly runs: Collection<RunBudget>; readonly profiles: Collection<ProfileBudget> };

/** Budget utilization per run and per profile, per domain and per tool. */
export const budgetsProjection: Projection<BudgetsState> = {
  name: 'budgets',
  // 2: recovered re-claims are no longer counted as calls (the decider's countCall).
  version: 2,
  eventTypes: ['RunStarted', 'PlanCreated', 'ToolCallStarted', 'BudgetWarning', 'BudgetExceeded', 'RunCompleted', 'RunFailed', 'RunCancelled', 'RunResumed'],
  // One document per run (paged out, dropped with its run by retention); one per profile (in memory: as many as configured profiles).
  initialState: () => ({ runs: new Collection<RunBudget>({ perRun: true }), profiles: new Collection<ProfileBudget>({ resident: true }) }),
  evolve(state, event) {
    const runId = event.metadata.correlationId;
    if (event.type === 'RunStarted') {
      const budget: RunBudget = {
        runId,
        profile: event.data.profile,
        live: true,
        limits: event.data.budget,
        used: { total: 0, perDomain: {}, perTool: {} },
        domains: {},
        warnings: [],
        exceedances: [],
      };
      state.runs.set(runId, budget);
      const profile = profileOf(state, budget.profile);
      profile.runs++;
      setLive(profile, budget, +1);
      return state;
    }
    const run = state.runs.get(runId);
    if (!run) return state;
    const profile = profileOf(state, run.profile);
    const at = isoAt(event);
    switch (event.type) {
      case 'PlanCreated':
        for (const s of event.data.steps) run.domains[s.id] = s.domain;
        break;
      case 'ToolCallStarted': {
        const domain = run.domains[event.data.stepId] ?? '';
        const tool = event.data.tool;
        const used = countCall(run.used, event.data, domain);
        if (used === run.used) return state; // a re-claim of the same attempt: no new call
        run.used = used;
        for (const key of ['total', `domain:${domain}`, `tool:${tool}`]) {
          const c = counter(profile, key);
          c.calls++;
          if (run.live && limitOf(run.limits, key) !== undefined) c.liveUsed++;
        }
        break;
      }
      case 'BudgetWarning': {
        const scope = scopeKey(event.data.scope);
        run.warnings.push({ scope, used: event.data.used, limit: event.data.limit, percent: event.data.percent, at });
        counter(profile, scope).warnings++;
        break;
      }
      case 'BudgetExceeded': {
        const scope = scopeKey(event.data.scope);
        run.exceedances.push({ scope, used: event.data.used, limit: event.data.limit, action: event.data.action, stepId: event.data.stepId, at });
        const c = counter(profile, scope);
        c.exceeded++;
        if (event.data.action === 'block') c.blocked++;
        break;
      }
      case 'RunCompleted':
      case 'RunFailed':
      case 'RunCancelled':
        if (run.live) setLive(profile, run, -1);
        run.live = false;
        break;
      case 'RunResumed':
        if (!run.live) setLive(profile, run, +1);
        run.live = true;
        break;
      default:
        return state;
    }
    state.runs.touch(runId);
    state.profiles.touch(profile.profile);
    return state;
  },
};

function profileOf(state: BudgetsState, name: string): ProfileBudget {
  return state.profiles.get(name) ?? state.profiles.set(name, { profile: name, runs: 0, liveRuns: 0, scopes: {} });
}

function counter(profile: ProfileBudget, key: string): ProfileCounter {
  return (profile.scopes[key] ??= { calls: 0, warnings: 0, exceeded: 0, blocked: 0, liveUsed: 0, liveLimit: 0 });
}

/** Adds (+1) or removes (-1) a run's use and limits from its profile's live sums. */
function setLive(profile: ProfileBudget, run: RunBudget, sign: 1 | -1): void {
  profile.liveRuns += sign;
  for (const { key, limit } of limitLines(run.limits)) {
    const c = counter(profile, key);
    c.liveLimit += sign * limit;
    c.liveUsed += sign * usedOf(run, key);
  }
}

function limitLines(limits: BudgetLimits): Array<{ key: string; limit: number }> {
  const lines: Array<{ key: string; limit: number }> = [];
  if (limits.totalCalls !== undefined) lines.push({ key: 'total', limit: limits.totalCalls });
  for (const [d, limit] of Object.entries(limits.perDomain)) lines.push({ key: `domain:${d}`, limit });
  for (const [t, limit] of Object.entries(limits.perTool)) lines.push({ key: `tool:${t}`, limit });
  return lines;
}

function limitOf(limits: BudgetLimits, key: string): number | undefined {
  if (key === 'total') return limits.totalCalls;
  const [kind, name = ''] = splitKey(key);
  return kind === 'domain' ? limits.perDomain[name] : limits.perTool[name];
}

function usedOf(run: RunBudget, key: string): number {
  if (key === 'total') return run.used.total;
  const [kind, name = ''] = splitKey(key);
  return (kind === 'domain' ? run.used.perDomain[name] : run.used.perTool[name]) ?? 0;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf(':');
  return [key.slice(0, i), key.slice(i + 1)];
}


/** One line of a budget report. */
export interface BudgetLine {
  scope: string;
  kind: 'total' | 'domain' | 'tool';
  key?: string;
  limit?: number;
  used: number;
  remaining?: number;
  percent?: number;
  warned: boolean;
  exceeded: boolean;
  action?: 'warn' | 'block';
}

/** Queries over budgets. */
export const budgetQueries = {
  /** Every scope of a run with a limit or a call: limit, used, remaining, percent, warnings, excess. */
  run(state: BudgetsState, runId: string): { runId: string; profile: string; lines: BudgetLine[]; warnings: BudgetNotice[]; exceedances: BudgetNotice[] } | undefined {
    const run = state.runs.get(runId);
    if (!run) return undefined;
    const keys = new Set<string>(limitLines(run.limits).map((l) => l.key));
    keys.add('total');
    for (const d of Object.keys(run.used.perDomain)) keys.add(`domain:${d}`);
    for (const t of Object.keys(run.used.perTool)) keys.add(`tool:${t}`);
    const lines = [...keys].sort().map((scope): BudgetLine => {
      const limit = limitOf(run.limits, scope);
      const used = usedOf(run, scope);
      const [kind, key] = scope === 'total' ? ['total', undefined] : splitKey(scope);
      const excess = run.exceedances.filter((e) => e.scope === scope);
      return {
        scope,
        kind: kind as BudgetLine['kind'],
        key,
        limit,
        used,
        remaining: limit === undefined ? undefined : Math.max(0, limit - used),
        percent: limit === undefined ? undefined : limit === 0 ? (used > 0 ? 100 : 0) : Math.round((used / limit) * 1000) / 10,
        warned: run.warnings.some((w) => w.scope === scope),
        exceeded: excess.length > 0,
        action: excess[excess.length - 1]?.action,
      };
    });
    return { runId, profile: run.profile, lines, warnings: run.warnings, exceedances: run.exceedances };
  },
  /** A profile's scopes: calls over all time, warnings and excesses, and its live runs' use against their limits. */
  profile(state: BudgetsState, profile: string) {
    const p = state.profiles.get(profile);
    if (!p) return undefined;
    const lines = Object.keys(p.scopes)
      .sort()
      .map((scope) => {
        const c = p.scopes[scope] as ProfileCounter;
        return {
          scope,
          calls: c.calls,
          warnings: c.warnings,
          exceeded: c.exceeded,
          blocked: c.blocked,
          live: c.liveLimit > 0
            ? { limit: c.liveLimit, used: c.liveUsed, remaining: Math.max(0, c.liveLimit - c.liveUsed), percent: Math.round((c.liveUsed / c.liveLimit) * 1000) / 10 }
            : undefined,
        };
      });
    return { profile: p.profile, runs: p.runs, liveRuns: p.liveRuns, lines };
  },
  profiles(state: BudgetsState): string[] {
    return [...state.profiles.values()].map((p) => p.profile).sort();
  },
};
