import type { BudgetScope } from '../events/common.js';
import type { RunEvent } from '../events/index.js';
import type { RunState, StepState } from './state.js';

export const BUDGET_WARNING_SHARE = 0.8;

/** The key a budget scope is tracked under: `total`, `domain:<d>`, `tool:<t>`. */
export function scopeKey(scope: { kind: string; key?: string | undefined }): string {
  return scope.kind === 'total' ? 'total' : `${scope.kind}:${scope.key ?? ''}`;
}

/** Calls counted against a budget: in total, per budget domain, per tool. */
export interface CallCounts {
  readonly total: number;
  readonly perDomain: Readonly<Record<string, number>>;
  readonly perTool: Readonly<Record<string, number>>;
}

/**
 * Counts a started call (a ToolCallStarted) against the budget of the step's domain. A recovered
 * re-claim of the same attempt is not another call: it returns `usage` itself. The one rule the
 * decider and every read model count by.
 */
export function countCall<U extends CallCounts>(usage: U, call: { readonly tool: string; readonly recovered?: boolean }, domain: string): U {
  if (call.recovered) return usage;
  return {
    ...usage,
    total: usage.total + 1,
    perDomain: { ...usage.perDomain, [domain]: (usage.perDomain[domain] ?? 0) + 1 },
    perTool: { ...usage.perTool, [call.tool]: (usage.perTool[call.tool] ?? 0) + 1 },
  };
}

/** What one more call of `step` does to the run's budget: warnings and a possible excess. */
export function budgetCheck(state: RunState, step: StepState): { events: RunEvent[]; blocked: boolean } {
  const { budget, usage } = state;
  const scopes: Array<{ scope: BudgetScope; used: number; limit: number | undefined }> = [
    { scope: { kind: 'total' }, used: usage.total, limit: budget.totalCalls },
    { scope: { kind: 'domain', key: step.domain }, used: usage.perDomain[step.domain] ?? 0, limit: budget.perDomain[step.domain] },
    { scope: { kind: 'tool', key: step.tool }, used: usage.perTool[step.tool] ?? 0, limit: budget.perTool[step.tool] },
  ];
  const events: RunEvent[] = [];
  let blocked = false;
  for (const { scope, used, limit } of scopes) {
    if (limit === undefined) continue;
    const after = used + 1;
    const key = scopeKey(scope);
    if (after > limit) {
      if (budget.onExceed === 'block') {
        blocked = true;
        events.push({ type: 'BudgetExceeded', data: { scope, used, limit, action: 'block', stepId: step.id } });
      } else if (!usage.exceeded.includes(key)) {
        events.push({ type: 'BudgetExceeded', data: { scope, used: after, limit, action: 'warn', stepId: step.id } });
      }
    } else if (after >= limit * BUDGET_WARNING_SHARE && !usage.warned.includes(key)) {
      events.push({ type: 'BudgetWarning', data: { scope, used: after, limit, percent: Math.round((after / limit) * 100) } });
    }
  }
  return { events: blocked ? events.filter((e) => e.type === 'BudgetExceeded') : events, blocked };
}
