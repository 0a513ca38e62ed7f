/**
 * The runs screens' GraphQL documents (each a GraphQL-tagged template string, checked against
 * schema.graphql), with hand-written types of what they return.
 */
import type { RunStatus } from './filters';
import type { TraceEvent } from './event-feed';

/** A principal as the API names it. */
export interface PrincipalRef { readonly id: string; readonly role: string }

/** A row of the runs list. */
export interface RunRow {
  readonly runId: string;
  readonly goal: string;
  readonly profile: string;
  readonly status: RunStatus;
  readonly stage: string;
  readonly startedAt: string;
  readonly endedAt?: string | null;
  readonly requester?: PrincipalRef | null;
  readonly progress: { readonly percent: number; readonly done: number; readonly total: number };
}

/** `runs` for the list page. */
export const RUNS_QUERY = /* GraphQL */ `
  query ConsoleRuns($filter: RunsFilter, $first: Int, $after: String) {
    runs(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { endCursor hasNextPage }
      edges { node { runId goal profile status stage startedAt endedAt requester { id role } progress { percent done total } } }
    }
  }
`;
export interface RunsData {
  readonly runs: { readonly totalCount?: number | null; readonly pageInfo: { readonly endCursor?: string | null; readonly hasNextPage: boolean }; readonly edges: ReadonlyArray<{ readonly node: RunRow }> };
}

/** The profiles, offered in the list's profile filter. */
export const PROFILES_QUERY = /* GraphQL */ `
  query ConsoleRunProfiles { profiles(first: 100) { edges { node { name } } } }
`;
export interface ProfilesData { readonly profiles: { readonly edges: ReadonlyArray<{ readonly node: { readonly name: string } }> } }

/** A row's live status: the run's read model after each of its events (only what the row shows). */
export const ROW_PROGRESS_SUBSCRIPTION = /* GraphQL */ `
  subscription ConsoleRunRow($runId: ID!) {
    runProgress(runId: $runId) { runId goal profile status stage startedAt endedAt requester { id role } progress { percent done total } }
  }
`;
export interface RowProgressData { readonly runProgress: RunRow }

/** A step of the run page. */
export interface RunStep {
  readonly id: string;
  readonly tool: string;
  readonly domain: string;
  readonly status: string;
  readonly dependsOn: readonly string[];
  readonly worker?: string | null;
  readonly attempts: number;
  readonly approvalId?: string | null;
  readonly approvalStatus?: string | null;
  readonly approvalsReceived?: number | null;
  readonly approvalsRequired?: number | null;
  readonly durationMs?: number | null;
  readonly retryAt?: string | null;
  readonly error?: { readonly code?: string | null; readonly message: string } | null;
}

/** A routing decision and the workers it turned down. */
export interface Routing {
  readonly stepId: string;
  readonly worker: string;
  readonly policy: string;
  readonly reasoning: string;
  readonly at: string;
  readonly alternatives: ReadonlyArray<{ readonly worker: string; readonly score: number; readonly reason: string }>;
}

/** The run page's read model. */
export interface RunDetail extends RunRow {
  readonly updatedAt: string;
  readonly durationMs?: number | null;
  readonly errorStrategy?: string | null;
  readonly playbook?: string | null;
  readonly cancelledBy?: PrincipalRef | null;
  readonly failure?: { readonly failureMode?: string | null; readonly error: { readonly code?: string | null; readonly message: string } } | null;
  readonly progress: RunRow['progress'] & { readonly inFlight: number };
  readonly steps: readonly RunStep[];
  readonly routing: readonly Routing[];
}

/**
 * The run page's read model, live: `runProgress` sends the run as it is now, then after each of its
 * events, so one subscription serves the first paint and every change (no query to race with it).
 */
export const RUN_PROGRESS_SUBSCRIPTION = /* GraphQL */ `
  subscription ConsoleRun($runId: ID!) {
    runProgress(runId: $runId) {
      runId goal profile status stage startedAt endedAt updatedAt durationMs errorStrategy playbook
      requester { id role } cancelledBy { id role }
      failure { failureMode error { code message } }
      progress { percent done total inFlight }
      steps { id tool domain status dependsOn worker attempts approvalId approvalStatus approvalsReceived approvalsRequired durationMs retryAt error { code message } }
      routing { stepId worker policy reasoning at alternatives { worker score reason } }
    }
  }
`;
export interface RunProgressData { readonly runProgress: RunDetail }

/** The live trace, with payloads (for those who may see them: `data` is refused to viewers). */
export const RUN_EVENTS_WITH_DATA_SUBSCRIPTION = /* GraphQL */ `
  subscription ConsoleRunEventsWithData($runId: ID!, $after: String) {
    runEvents(runId: $runId, after: $after) { cursor id revision position type stage actor stepId recordedAt hash data }
  }
`;
/** The live trace without payloads (viewers). */
export const RUN_EVENTS_SUBSCRIPTION = /* GraphQL */ `
  subscription ConsoleRunEvents($runId: ID!, $after: String) {
    runEvents(runId: $runId, after: $after) { cursor id revision position type stage actor stepId recordedAt hash }
  }
`;
export type { TraceEvent };

/** The run's budget usage. */
export const RUN_BUDGET_QUERY = /* GraphQL */ `
  query ConsoleRunBudget($runId: String!) {
    budget(scope: { runId: $runId }) { runId profile lines { scope kind key limit used remaining percent warnings exceeded action } }
  }
`;
export interface BudgetLine {
  readonly scope: string;
  readonly kind: string;
  readonly key?: string | null;
  readonly limit?: number | null;
  readonly used: number;
  readonly remaining?: number | null;
  readonly percent?: number | null;
  readonly warnings: number;
  readonly exceeded: number;
  readonly action?: string | null;
}
export interface RunBudgetData { readonly budget: { readonly runId?: string | null; readonly profile: string; readonly lines: readonly BudgetLine[] } }

/** The chain status of the run, checked by the server with its own key. */
export const AUDIT_VERIFICATION_QUERY = /* GraphQL */ `
  query ConsoleAuditVerification($runId: ID!) {
    auditVerification(runId: $runId) { runId ok events signaturesChecked signaturesVerified sealed unsignedTail finding { revision kind reason } }
  }
`;
export interface AuditVerificationData {
  readonly auditVerification: {
    readonly runId: string; readonly ok: boolean; readonly events: number; readonly signaturesChecked: number; readonly signaturesVerified: boolean;
    readonly sealed: boolean; readonly unsignedTail: number; readonly finding?: { readonly revision: number; readonly kind: string; readonly reason: string } | null;
  };
}

/** The run's JSON Lines export (the CLI's `gatehouse audit export`). */
export const AUDIT_EXPORT_QUERY = /* GraphQL */ `
  query ConsoleAuditExport($runId: ID!) { auditExport(runId: $runId) }
`;
export interface AuditExportData { readonly auditExport: string }

/** Cancels the run. */
export const CANCEL_RUN_MUTATION = /* GraphQL */ `
  mutation ConsoleCancelRun($runId: ID!, $reason: String) { cancelRun(runId: $runId, reason: $reason) { runId status } }
`;
/** Resumes a failed run from its failed steps. */
export const RESUME_RUN_MUTATION = /* GraphQL */ `
  mutation ConsoleResumeRun($runId: ID!, $reason: String) { resumeRun(runId: $runId, reason: $reason) { runId status } }
`;
export interface RunActionData { readonly cancelRun?: { readonly runId: string; readonly status: string }; readonly resumeRun?: { readonly runId: string; readonly status: string } }
