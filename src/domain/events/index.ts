import type { z } from 'zod';
import { EventCatalog, type EventDefinition, type Stage } from './catalog.js';
import * as N from './notification-events.js';
import * as R from './requester-events.js';
import * as E from './run-events.js';

const def = <S extends z.ZodType>(stage: Stage, schema: S, version = 1): EventDefinition<S> => ({
  stage,
  schema,
  version,
});

/** Every event a run's stream can hold, with its lifecycle stage (DESIGN.md "Streams and events"). */
export const runEventDefinitions = {
  RunStarted: def('INITIALIZE', E.RunStarted),
  PlanCreated: def('PLAN', E.PlanCreated),
  StepRouted: def('ROUTE', E.StepRouted),
  ApprovalRequested: def('APPROVE', E.ApprovalRequested),
  ApprovalGranted: def('APPROVE', E.ApprovalGranted),
  ApprovalDenied: def('APPROVE', E.ApprovalDenied),
  ApprovalEscalated: def('APPROVE', E.ApprovalEscalated),
  ApprovalExpired: def('APPROVE', E.ApprovalExpired),
  ApprovalCancelled: def('APPROVE', E.ApprovalCancelled),
  ApprovalAutoApproved: def('APPROVE', E.ApprovalAutoApproved),
  ApproverConsultationStarted: def('APPROVE', E.ApproverConsultationStarted),
  BudgetWarning: def('EXECUTE', E.BudgetWarning),
  BudgetExceeded: def('EXECUTE', E.BudgetExceeded),
  ToolCallStarted: def('EXECUTE', E.ToolCallStarted),
  ToolCallSucceeded: def('EXECUTE', E.ToolCallSucceeded),
  ToolCallFailed: def('EXECUTE', E.ToolCallFailed),
  StepSkipped: def('EXECUTE', E.StepSkipped),
  RunAggregated: def('AGGREGATE', E.RunAggregated),
  RunCompleted: def('COMPLETE', E.RunCompleted),
  RunFailed: def('FAILED', E.RunFailed),
  // DESIGN.md groups these under COMPLETE / FAILED: cancelling closes a run, resuming acts on a failed one.
  RunCancelled: def('COMPLETE', E.RunCancelled),
  RunResumed: def('FAILED', E.RunResumed),
} as const;

type Definitions = typeof runEventDefinitions;

/** The name of a run event type. */
export type RunEventType = keyof Definitions;

/** The parsed data of a run event type, as read back from the store. */
export type RunEventData<T extends RunEventType> = z.output<Definitions[T]['schema']>;

/** The data a caller may write for a run event type (defaults not yet applied). */
export type RunEventInput<T extends RunEventType> = z.input<Definitions[T]['schema']>;

/** The discriminated union of all run events: `{ type, data }`. */
export type RunEvent = { [T in RunEventType]: { type: T; data: RunEventData<T> } }[RunEventType];

/** The catalog of run events alone. */
export const runEventCatalog = new EventCatalog(runEventDefinitions);

/** Every event a requester's stream (`requester-<id>`) can hold: its pending-approval slots. */
export const requesterEventDefinitions = {
  ApprovalSlotReserved: def('APPROVE', R.ApprovalSlotReserved),
  ApprovalSlotReleased: def('APPROVE', R.ApprovalSlotReleased),
} as const;

/** The name of a requester event type. */
export type RequesterEventType = keyof typeof requesterEventDefinitions;

/** The discriminated union of all requester events: `{ type, data }`. */
export type RequesterEvent = {
  [T in RequesterEventType]: { type: T; data: z.output<(typeof requesterEventDefinitions)[T]['schema']> };
}[RequesterEventType];

/** Every event an approval's delivery record (`notify-<approvalId>`) can hold (src/domain/notifications/). */
export const notificationEventDefinitions = {
  DeliveriesPlanned: def('APPROVE', N.DeliveriesPlanned),
  DeliveryAttempted: def('APPROVE', N.DeliveryAttempted),
  Delivered: def('APPROVE', N.Delivered),
  DeliveryAttemptFailed: def('APPROVE', N.DeliveryAttemptFailed),
  DeliveryFailed: def('APPROVE', N.DeliveryFailed),
  DeliverySkipped: def('APPROVE', N.DeliverySkipped),
} as const;

/** The catalog the stores use by default: every stream category Gatehouse writes, no upcasters yet. */
export const eventCatalog = new EventCatalog({ ...runEventDefinitions, ...requesterEventDefinitions, ...notificationEventDefinitions });

/** The lifecycle stage of a run event type. */
export function stageOf(type: RunEventType): Stage {
  return runEventDefinitions[type].stage;
}

export { EventCatalog, Stage, formatIssues } from './catalog.js';
export type { EventDefinition, Upcaster } from './catalog.js';
export { EventMetadata } from './metadata.js';
export * as schemas from './run-events.js';
export * as requesterSchemas from './requester-events.js';
export * from './common.js';
