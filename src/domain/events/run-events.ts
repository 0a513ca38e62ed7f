import { z } from 'zod';
import {
  BudgetLimits,
  BudgetScope,
  ErrorStrategy,
  FailureMode,
  Instant,
  JsonObject,
  Principal,
  RecordedError,
  ReviewLevel,
  RiskLevel,
  RoutingPolicyName,
  RunId,
  StepId,
} from './common.js';

// INITIALIZE ---------------------------------------------------------------------------------

export const RunStarted = z.object({
  runId: RunId,
  goal: z.string().min(1).max(10_000),
  profile: z.string().min(1).max(100),
  requestedBy: Principal,
  errorStrategy: ErrorStrategy,
  budget: BudgetLimits,
  /** Most steps of this run that may execute at once. */
  maxParallel: z.number().int().positive().max(1000),
  deadline: Instant.optional(),
  /** The workspace the run acts in (a verified one raises approval confidence). */
  workspace: z.string().max(200).optional(),
  playbook: z.string().max(200).optional(),
  idempotencyKey: z.string().max(200).optional(),
});

// PLAN ---------------------------------------------------------------------------------------

export const PlannedStep = z.object({
  id: StepId,
  tool: z.string().min(1).max(200),
  input: JsonObject,
  domain: z.string().min(1).max(100),
  dependsOn: z.array(StepId).default([]),
  description: z.string().max(2_000).optional(),
});
export type PlannedStep = z.infer<typeof PlannedStep>;

export const PlanCreated = z.object({
  steps: z.array(PlannedStep).min(1).max(1_000),
});

// ROUTE --------------------------------------------------------------------------------------

export const RoutingAlternative = z.object({
  worker: z.string(),
  score: z.number(),
  reason: z.string().max(2_000),
});

export const StepRouted = z.object({
  stepId: StepId,
  worker: z.string().min(1).max(200),
  policy: RoutingPolicyName,
  reasoning: z.string().max(2_000),
  alternatives: z.array(RoutingAlternative).default([]),
});

// APPROVE ------------------------------------------------------------------------------------

const ApprovalRef = { approvalId: z.string().min(1).max(200), stepId: StepId };

export const RiskAssessment = z.object({
  level: RiskLevel,
  score: z.number().min(0).max(100),
  factors: z.array(z.string().max(500)).default([]),
});

export const ConfidenceAssessment = z.object({
  score: z.number().min(0).max(100),
  adjustments: z.array(z.object({ reason: z.string().max(500), delta: z.number() })).default([]),
});

export const ApprovalRequested = z.object({
  ...ApprovalRef,
  /** The tool the step calls. */
  tool: z.string().max(200).optional(),
  /** The risk rule that classified the action. */
  rule: z.string().max(200).optional(),
  /** Automated approvers consulted, in order, before humans. */
  automatedApprovers: z.array(z.string()).default([]),
  risk: RiskAssessment,
  confidence: ConfidenceAssessment,
  reviewLevel: ReviewLevel,
  requiredApprovals: z.number().int().positive(),
  eligibleRoles: z.array(z.string()).min(1),
  justificationRequired: z.boolean(),
  requester: Principal,
  expiresAt: Instant,
  onTimeout: z.enum(['approve', 'deny']),
  priority: z.enum(['normal', 'urgent']),
  /** The tool input as the approver sees it, already redacted. */
  input: JsonObject,
});

export const ApprovalGranted = z.object({
  ...ApprovalRef,
  approver: Principal,
  justification: z.string().max(5_000).optional(),
  /** Input the approver changed; the tool then runs with it. */
  editedInput: JsonObject.optional(),
});

export const ApprovalDenied = z.object({
  ...ApprovalRef,
  approver: Principal,
  justification: z.string().max(5_000).optional(),
});

export const ApprovalEscalated = z.object({
  ...ApprovalRef,
  by: Principal,
  toRoles: z.array(z.string()).min(1),
  reason: z.string().max(5_000).optional(),
});

export const ApprovalExpired = z.object({
  ...ApprovalRef,
  outcome: z.enum(['approved', 'denied']),
  expiredAt: Instant,
});

export const ApprovalCancelled = z.object({
  ...ApprovalRef,
  by: Principal,
  reason: z.string().max(5_000).optional(),
});

export const ApprovalAutoApproved = z.object({
  ...ApprovalRef,
  /** The automated approver that decided (`rules`, a webhook name, ...). */
  approver: z.string().min(1).max(200),
  rule: z.string().max(500),
  reason: z.string().max(5_000).optional(),
});

/**
 * An instance claims the consultation of a gate's automated approvers until `leaseUntil`: only the
 * instance whose append of this event wins asks them; another may claim it again only once the
 * lease has passed without an answer (its instance died with the question).
 */
export const ApproverConsultationStarted = z.object({
  ...ApprovalRef,
  /** The instance (engine) that asks the approvers. */
  instance: z.string().min(1).max(200),
  startedAt: Instant,
  leaseUntil: Instant,
});

// EXECUTE ------------------------------------------------------------------------------------

export const BudgetWarning = z.object({
  scope: BudgetScope,
  used: z.number().int().nonnegative(),
  limit: z.number().int().nonnegative(),
  percent: z.number().nonnegative(),
});

export const BudgetExceeded = z.object({
  scope: BudgetScope,
  used: z.number().int().nonnegative(),
  limit: z.number().int().nonnegative(),
  action: z.enum(['warn', 'block']),
  stepId: StepId,
});

export const ToolCallStarted = z.object({
  stepId: StepId,
  tool: z.string().min(1).max(200),
  worker: z.string().min(1).max(200),
  attempt: z.number().int().positive(),
  /** `runId:stepId:attempt`; the tool receives it so a repeated call can be recognised. */
  idempotencyKey: z.string().min(1).max(400),
  input: JsonObject,
  timeoutMs: z.number().int().positive(),
  /** When the call was claimed; with timeoutMs it tells when an unanswered call is overdue. */
  startedAt: Instant,
  /** Set when an interrupted attempt of an idempotent tool is claimed again, with the same key. */
  recovered: z.boolean().optional(),
});

export const ToolCallSucceeded = z.object({
  stepId: StepId,
  attempt: z.number().int().positive(),
  output: z.unknown(),
  durationMs: z.number().nonnegative(),
});

export const ToolCallFailed = z.object({
  stepId: StepId,
  attempt: z.number().int().positive(),
  error: RecordedError,
  failureMode: FailureMode,
  retryable: z.boolean(),
  /** When the next attempt is due: the wait is data, so it survives a restart. */
  retryAt: Instant.optional(),
  durationMs: z.number().nonnegative(),
});

export const StepSkipped = z.object({
  stepId: StepId,
  reason: z.string().max(2_000),
  /** The failed step that made this one impossible, if any. */
  becauseOf: StepId.optional(),
});

// AGGREGATE ----------------------------------------------------------------------------------

export const RunAggregated = z.object({
  outputs: z.record(z.string(), z.unknown()),
  completedSteps: z.array(StepId),
  failedSteps: z.array(StepId).default([]),
  skippedSteps: z.array(StepId).default([]),
});

// COMPLETE / FAILED --------------------------------------------------------------------------

export const RunCompleted = z.object({
  status: z.enum(['SUCCEEDED', 'PARTIAL']),
});

export const PartialResult = z.object({
  completedSteps: z.array(z.object({ stepId: StepId, output: z.unknown() })),
  failedStep: StepId.optional(),
  remainingSteps: z.array(StepId),
});

export const RunFailed = z.object({
  stage: z.enum(['INITIALIZE', 'PLAN', 'ROUTE', 'APPROVE', 'EXECUTE', 'AGGREGATE']),
  error: RecordedError,
  failureMode: FailureMode.optional(),
  partialResult: PartialResult,
});

export const RunCancelled = z.object({
  by: Principal,
  reason: z.string().max(5_000).optional(),
});

export const RunResumed = z.object({
  by: Principal,
  reason: z.string().max(5_000).optional(),
  /** Denied gates re-opened by this resume (its `by` is an eligible approver of each); others stand. */
  reopened: z.array(z.object({ stepId: z.string(), approvalId: z.string() })).max(1_000).optional(),
});
