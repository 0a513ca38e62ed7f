export { canonicalJson } from '../domain/audit/canonical-json.js';
export { Collection, dumpState, type DocumentChange, type DocumentCodec, type ReadModelState } from './documents.js';
export { asProjected, type ProjectedEvent, type Projection, ProjectionError, ProjectionFold } from './projection.js';
export type { ProjectionCommit, ReadModelStore, StoredProjection } from './read-model-store.js';
export { type ProjectionLag, ProjectionRunner, type ProjectionRunnerOptions, type ProjectionStatus, type RebuildProgress } from './runner.js';
export { budgetQueries, budgetsProjection, type BudgetsState } from './read-models/budgets.js';
export { goldenSignalQueries, goldenSignalsProjection, type GoldenSignalsState } from './read-models/golden-signals.js';
export { pendingApprovalQueries, pendingApprovalsProjection, type PendingApprovalsState } from './read-models/pending-approvals.js';
export { runQueries, runsProjection, type RunsState } from './read-models/runs.js';

import { budgetsProjection } from './read-models/budgets.js';
import { goldenSignalsProjection } from './read-models/golden-signals.js';
import { pendingApprovalsProjection } from './read-models/pending-approvals.js';
import { runsProjection } from './read-models/runs.js';

/** Every read model of Gatehouse, for one runner. */
export const allProjections = [pendingApprovalsProjection, budgetsProjection, goldenSignalsProjection, runsProjection] as const;
