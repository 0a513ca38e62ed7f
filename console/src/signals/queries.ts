/**
 * The GraphQL documents of the budgets and golden-signals screens, with hand-written result types
 * (test/console/queries.unit.test.ts validates every document against schema.graphql).
 */

/** p50/p95/p99 of a distribution, as `Percentiles` answers it. */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** One window of `goldenSignals`. */
export interface Signals {
  readonly scope: string;
  readonly window: SignalWindow;
  readonly calls: number;
  readonly successRate: number;
  readonly errorRate: number;
  readonly throughput: number | null;
  /** Failure mode → { count, rate } (JSON in the schema). */
  readonly errorsByMode: Record<string, { count: number; rate: number }>;
  readonly latencyMs: Percentiles;
  readonly approvalWaitMs: Percentiles;
}

/** `SignalWindow` of the schema. */
export type SignalWindow = 'LAST_5M' | 'LAST_1H' | 'ALL';

/** All three windows of one scope, sampled at once so the table's rows agree with each other. */
export interface SignalsData {
  readonly last5m: Signals;
  readonly last1h: Signals;
  readonly all: Signals;
}

export const SIGNALS_QUERY = /* GraphQL */ `
  query GoldenSignalsByWindow($scope: String!) {
    last5m: goldenSignals(scope: $scope, window: LAST_5M) { ...SignalFields }
    last1h: goldenSignals(scope: $scope, window: LAST_1H) { ...SignalFields }
    all: goldenSignals(scope: $scope, window: ALL) { ...SignalFields }
  }
  fragment SignalFields on GoldenSignals {
    scope window calls successRate errorRate throughput errorsByMode
    latencyMs { count p50 p95 p99 max }
    approvalWaitMs { count p50 p95 p99 max }
  }
`;

/** What the scope selector offers: tools and profiles by name. */
export interface ScopesData {
  readonly tools: { readonly edges: ReadonlyArray<{ readonly node: { readonly name: string } }> };
  readonly profiles: { readonly edges: ReadonlyArray<{ readonly node: { readonly name: string } }> };
}

export const SCOPES_QUERY = /* GraphQL */ `
  query SignalScopes {
    tools(first: 100) { edges { node { name } } }
    profiles(first: 100) { edges { node { name } } }
  }
`;

/** Any change to an open approval: a reason to sample the signals now rather than at the next tick. */
export const APPROVALS_CHANGED_SUBSCRIPTION = /* GraphQL */ `
  subscription SignalsApprovalsChanged { approvalsChanged { approvalId eventType } }
`;

/** One budget scope line (`total`, `domain:<d>`, `tool:<t>`), as `BudgetLine` answers it. */
export interface BudgetLine {
  readonly scope: string;
  readonly kind: string;
  readonly key: string | null;
  readonly used: number;
  readonly limit: number | null;
  readonly remaining: number | null;
  readonly percent: number | null;
  readonly warnings: number;
  readonly exceeded: number;
  readonly blocked: number | null;
  readonly action: string | null;
}

/** A run's or a profile's budget. */
export interface Budget {
  readonly profile: string;
  readonly runId: string | null;
  readonly runs: number | null;
  readonly liveRuns: number | null;
  readonly lines: readonly BudgetLine[];
}

/** A profile as the budgets screen needs it: its name and its per-run budget (JSON). */
export interface ProfileBudgetConfig {
  readonly name: string;
  readonly budget: { totalCalls?: number; perDomain?: Record<string, number>; perTool?: Record<string, number>; onExceed?: string };
}

export const PROFILES_QUERY = /* GraphQL */ `
  query BudgetProfiles { profiles(first: 100) { edges { node { name budget } } } }
`;

export const BUDGET_QUERY = /* GraphQL */ `
  query BudgetOf($scope: BudgetScopeInput!) {
    budget(scope: $scope) {
      profile runId runs liveRuns
      lines { scope kind key used limit remaining percent warnings exceeded blocked action }
    }
  }
`;
