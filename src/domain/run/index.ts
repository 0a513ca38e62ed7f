export * from './commands.js';
export { decide, overdueAt } from './decide.js';
export { evolve, foldRun, scopeKey } from './evolve.js';
export { INTERRUPT_GRACE_MS, nextActions, type RunAction } from './next-actions.js';
export { dependentsOf, validatePlan } from './plan.js';
export { backoffDelayMs, defaultRetryPolicy, RetryPolicy } from './retry.js';
export * from './state.js';
