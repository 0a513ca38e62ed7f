import type { Budget, BudgetLine } from './queries';

/** The share of a limit at which the engine records BudgetWarning (BUDGET_WARNING_SHARE in the domain). */
export const WARNING_SHARE = 0.8;

/** How a budget line stands: no limit, under 80 %, at or past the warning, at the limit, over it. */
export type BudgetState = 'unlimited' | 'ok' | 'warning' | 'limit' | 'over';

/** One bar: what it measures, its fill (0..100, clamped) and the words beside it. */
export interface BudgetBar {
  readonly scope: string;
  readonly label: string;
  readonly used: number;
  readonly limit: number | null;
  /** used / limit in percent, unclamped (over 100 when exceeded). */
  readonly percent: number | null;
  /** Width of the fill, 0..100. */
  readonly fill: number;
  readonly state: BudgetState;
  /** "8 of 10 calls (80 %)". */
  readonly text: string;
  /** The state in words, for people who do not see the colour. */
  readonly stateText: string;
}

/** "total" → "Total calls", "domain:files" → "Domain files", "tool:file.read" → "Tool file.read". */
export function scopeLabel(scope: string): string {
  if (scope === 'total') return 'Total calls';
  const colon = scope.indexOf(':');
  if (colon < 0) return scope;
  const kind = scope.slice(0, colon);
  return `${kind.charAt(0).toUpperCase()}${kind.slice(1)} ${scope.slice(colon + 1)}`;
}

/** The state of `used` against `limit`, by the engine's rule: a warning from 80 %, over past the limit. */
export function budgetState(used: number, limit: number | null, exceeded = false): BudgetState {
  if (limit === null || limit <= 0) return 'unlimited';
  if (used > limit || exceeded) return 'over';
  if (used === limit) return 'limit';
  if (used >= limit * WARNING_SHARE) return 'warning';
  return 'ok';
}

const STATE_TEXT: Record<BudgetState, string> = {
  unlimited: 'no limit',
  ok: 'within budget',
  warning: 'warning: 80 % reached',
  limit: 'limit reached',
  over: 'over the limit',
};

function bar(scope: string, used: number, limit: number | null, exceeded: boolean, what: string): BudgetBar {
  const state = budgetState(used, limit, exceeded);
  const percent = limit ? Math.round((used / limit) * 1000) / 10 : null;
  return {
    scope,
    label: scopeLabel(scope),
    used,
    limit,
    percent,
    fill: percent === null ? 0 : Math.min(100, Math.max(0, percent)),
    state,
    text: limit ? `${used} of ${limit} ${what} (${percent} %)` : `${used} ${what}, no limit`,
    stateText: STATE_TEXT[state],
  };
}

/** A run's lines as bars: its own calls against its own limits. Total first, then domains, then tools. */
export function runBars(budget: Budget): BudgetBar[] {
  return sortLines(budget.lines).map((l) => bar(l.scope, l.used, l.limit, l.exceeded > 0, 'calls'));
}

/**
 * A profile's lines as bars. For a profile the API gives calls over all time (`used`) and, while it
 * has live runs, their summed limits (`limit`) with `remaining`/`percent` of that live use: the
 * bar shows the live use (limits are per run, so only live runs have one to fill), and the
 * all-time count goes beside it in words.
 */
export function profileBars(budget: Budget): Array<BudgetBar & { readonly allTime: number; readonly warnings: number; readonly exceeded: number; readonly blocked: number }> {
  const live = (budget.liveRuns ?? 0) > 0;
  return sortLines(budget.lines).map((l) => {
    const liveUsed = liveUse(l);
    const b = liveUsed === null
      ? { ...bar(l.scope, 0, null, false, 'calls'), text: live ? 'no limit on the live runs' : 'no live run' }
      : bar(l.scope, liveUsed, l.limit, false, 'calls by live runs');
    return { ...b, allTime: l.used, warnings: l.warnings, exceeded: l.exceeded, blocked: l.blocked ?? 0 };
  });
}

/** Live runs' use from limit/remaining (exact up to the limit), or from the rounded percent past it. */
function liveUse(l: BudgetLine): number | null {
  if (l.limit === null || l.limit <= 0 || l.percent === null) return null;
  if (l.remaining !== null && l.remaining > 0) return l.limit - l.remaining;
  return Math.round((l.percent / 100) * l.limit);
}

const KIND_ORDER: Record<string, number> = { total: 0, domain: 1, tool: 2 };

function sortLines(lines: readonly BudgetLine[]): BudgetLine[] {
  return [...lines].sort((a, b) => (KIND_ORDER[a.kind] ?? 3) - (KIND_ORDER[b.kind] ?? 3) || a.scope.localeCompare(b.scope));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a profile's line counted over all time, in words ("1 call", not "1 calls"). */
export function allTimeText(counts: { readonly allTime: number; readonly warnings: number; readonly exceeded: number; readonly blocked: number }): string {
  return `${plural(counts.allTime, 'call')} over all time · ${plural(counts.warnings, 'warning')} · ${counts.exceeded} exceeded · ${counts.blocked} blocked`;
}
