import type { RunEventData } from '../domain/events/index.js';
import { type EventStore, type RecordedEvent, WrongExpectedRevisionError } from '../domain/ports/event-store.js';
import type { NotificationsConfig, Recipient } from '../domain/notifications/config.js';
import { type ApprovalEventFacts, type GateFacts, planDeliveries, triggersFor } from '../domain/notifications/addressing.js';
import { notifyStreamId, type PlannedDelivery } from '../domain/notifications/events.js';
import { findGate } from '../domain/run/state.js';
import { expectedOf, loadRecord } from './notification-record.js';
import { loadRun } from './run-repository.js';

/** The approval events of a run's stream that notifications follow. */
export const APPROVAL_EVENT_TYPES = [
  'ApprovalRequested', 'ApprovalEscalated', 'ApprovalGranted', 'ApprovalDenied', 'ApprovalExpired', 'ApprovalAutoApproved', 'ApprovalCancelled',
] as const;

/** What planning needs besides the log. */
export interface PlanningContext {
  readonly store: EventStore;
  readonly config: NotificationsConfig;
  readonly people: readonly Recipient[];
  readonly actor: string;
}

/**
 * Plans the deliveries one approval event calls for and records them on the approval's
 * `notify-` stream, once: the event's id is kept as the plan's source, and the append carries the
 * record's expected revision, so instances (or a restart) that plan the same event again add nothing.
 */
export async function planFor(ctx: PlanningContext, event: RecordedEvent): Promise<void> {
  const approvalId = (event.data as { approvalId: string }).approvalId;
  const runId = event.metadata.correlationId;
  const run = await loadRun(ctx.store, runId);
  const found = findGate(run.state, approvalId);
  if (!found) return; // a gate the run no longer knows (another run version): nothing to tell
  const { step, gate } = found;
  const recordedAt = event.recordedAt.toISOString();
  const facts: GateFacts = {
    approvalId, tool: gate.request.tool ?? step.tool, level: gate.request.risk.level, eligibleRoles: gate.eligibleRoles,
    profile: run.state.profile, requesterId: gate.request.requester.id, requestedAt: recordedAt, expiresAt: gate.request.expiresAt,
  };
  const timed = triggersFor(eventFacts(event, gate.status === 'GRANTED'), recordedAt, ctx.config.reminders);
  const planned: PlannedDelivery[] = timed.flatMap((t) => planDeliveries(t.trigger, facts, ctx.config, ctx.people, t.notBefore));
  for (let attempt = 0; ; attempt++) {
    const record = await loadRecord(ctx.store, approvalId);
    if (record.sources.includes(event.id)) return;
    const known = new Set(record.deliveries.map((d) => d.key));
    const deliveries = planned.filter((d) => !known.has(d.key));
    if (deliveries.length === 0) return;
    try {
      await ctx.store.append(
        notifyStreamId(approvalId),
        [{ type: 'DeliveriesPlanned', data: { approvalId, runId, source: event.id, deliveries }, metadata: { correlationId: runId, causationId: event.id, actor: ctx.actor } }],
        { expectedRevision: expectedOf(record) },
      );
      return;
    } catch (error) {
      // Another instance planned (or claimed) first: read what it wrote and decide again.
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= 20) throw error;
    }
  }
}

function eventFacts(event: RecordedEvent, gateGranted: boolean): ApprovalEventFacts {
  const type = event.type as (typeof APPROVAL_EVENT_TYPES)[number];
  switch (type) {
    case 'ApprovalRequested': {
      const d = event.data as RunEventData<'ApprovalRequested'>;
      return { type, automatedApprovers: d.automatedApprovers, expiresAt: d.expiresAt };
    }
    case 'ApprovalEscalated': {
      const d = event.data as RunEventData<'ApprovalEscalated'>;
      return { type, byAutomated: d.by.role === 'automated', toRoles: d.toRoles };
    }
    case 'ApprovalGranted': return { type, gateGranted };
    case 'ApprovalExpired': return { type, outcome: (event.data as RunEventData<'ApprovalExpired'>).outcome };
    case 'ApprovalDenied': case 'ApprovalAutoApproved': case 'ApprovalCancelled': return { type };
    default: {
      const never: never = type;
      return never;
    }
  }
}
