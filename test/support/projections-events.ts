import { createMemoryEventStore } from '../../src/adapters/eventstore/memory/memory-event-store.js';
import type { RunEventInput, RunEventType } from '../../src/domain/events/index.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { dumpState, type ReadModelState } from '../../src/projections/documents.js';
import { asProjected, type ProjectedEvent, type Projection, ProjectionFold } from '../../src/projections/projection.js';

/** One event of a spec: type and data, written to run `runId` at `at` (ms since the first event). */
export interface SpecEvent {
  readonly runId: string;
  readonly type: RunEventType;
  readonly data: unknown;
  readonly at?: number;
}

export const T0 = Date.parse('2025-03-01T12:00:00.000Z');

/** Spec-event builders with sensible defaults; `at` is milliseconds after T0. */
export const ev = {
  started: (runId: string, at = 0, extra: Partial<RunEventInput<'RunStarted'>> = {}): SpecEvent => ({
    runId,
    at,
    type: 'RunStarted',
    data: {
      runId,
      goal: 'ship it',
      profile: 'technical',
      requestedBy: { id: 'alice', role: 'developer' },
      errorStrategy: 'RETRY',
      budget: { totalCalls: 10, onExceed: 'block' },
      maxParallel: 4,
      ...extra,
    },
  }),
  plan: (runId: string, steps: Array<{ id: string; tool?: string; domain?: string; dependsOn?: string[] }>, at = 0): SpecEvent => ({
    runId,
    at,
    type: 'PlanCreated',
    data: { steps: steps.map((s) => ({ id: s.id, tool: s.tool ?? 'db.select', input: {}, domain: s.domain ?? 'db', dependsOn: s.dependsOn ?? [] })) },
  }),
  routed: (runId: string, stepId: string, worker = 'w1', at = 0): SpecEvent => ({
    runId,
    at,
    type: 'StepRouted',
    data: { stepId, worker, policy: 'capability', reasoning: `${worker} fits`, alternatives: [{ worker: 'w2', score: 0.2, reason: 'busy' }] },
  }),
  requested: (runId: string, stepId: string, at = 0, extra: Partial<RunEventInput<'ApprovalRequested'>> = {}): SpecEvent => ({
    runId,
    at,
    type: 'ApprovalRequested',
    data: {
      approvalId: `${runId}/${stepId}/1`,
      stepId,
      risk: { level: 'medium', score: 50, factors: ['write'] },
      confidence: { score: 70, adjustments: [] },
      reviewLevel: 'QUICK',
      requiredApprovals: 1,
      eligibleRoles: ['tech_lead'],
      justificationRequired: false,
      requester: { id: 'alice', role: 'developer' },
      expiresAt: new Date(T0 + at + 3_600_000).toISOString(),
      onTimeout: 'deny',
      priority: 'normal',
      input: { q: 1 },
      ...extra,
    },
  }),
  granted: (runId: string, stepId: string, approver = { id: 'bob', role: 'tech_lead' }, at = 0): SpecEvent => ({
    runId, at, type: 'ApprovalGranted', data: { approvalId: `${runId}/${stepId}/1`, stepId, approver },
  }),
  denied: (runId: string, stepId: string, at = 0): SpecEvent => ({
    runId, at, type: 'ApprovalDenied', data: { approvalId: `${runId}/${stepId}/1`, stepId, approver: { id: 'bob', role: 'tech_lead' } },
  }),
  escalated: (runId: string, stepId: string, toRoles = ['devops_engineer'], at = 0): SpecEvent => ({
    runId, at, type: 'ApprovalEscalated', data: { approvalId: `${runId}/${stepId}/1`, stepId, by: { id: 'bob', role: 'tech_lead' }, toRoles },
  }),
  callStarted: (runId: string, stepId: string, attempt = 1, at = 0, tool = 'db.select', worker = 'w1'): SpecEvent => ({
    runId,
    at,
    type: 'ToolCallStarted',
    data: { stepId, tool, worker, attempt, idempotencyKey: `${runId}:${stepId}:${attempt}`, input: {}, timeoutMs: 1000, startedAt: new Date(T0 + at).toISOString() },
  }),
  succeeded: (runId: string, stepId: string, attempt = 1, durationMs = 10, at = 0): SpecEvent => ({
    runId, at, type: 'ToolCallSucceeded', data: { stepId, attempt, output: { ok: attempt }, durationMs },
  }),
  failed: (runId: string, stepId: string, attempt = 1, durationMs = 10, at = 0, retryAt?: number, failureMode = 'SYSTEM'): SpecEvent => ({
    runId,
    at,
    type: 'ToolCallFailed',
    data: {
      stepId, attempt, error: { message: 'boom' }, failureMode, retryable: retryAt !== undefined,
      retryAt: retryAt === undefined ? undefined : new Date(T0 + retryAt).toISOString(), durationMs,
    },
  }),
  budgetWarning: (runId: string, used: number, limit: number, at = 0): SpecEvent => ({
    runId, at, type: 'BudgetWarning', data: { scope: { kind: 'total' }, used, limit, percent: Math.round((used / limit) * 100) },
  }),
  budgetExceeded: (runId: string, stepId: string, used: number, limit: number, action: 'warn' | 'block', at = 0): SpecEvent => ({
    runId, at, type: 'BudgetExceeded', data: { scope: { kind: 'total' }, used, limit, action, stepId },
  }),
  completed: (runId: string, at = 0, status: 'SUCCEEDED' | 'PARTIAL' = 'SUCCEEDED'): SpecEvent => ({ runId, at, type: 'RunCompleted', data: { status } }),
  cancelled: (runId: string, at = 0): SpecEvent => ({ runId, at, type: 'RunCancelled', data: { by: { id: 'alice', role: 'developer' } } }),
};

/** Writes spec events to a memory store (one append per event, clock at T0 + at) and reads them back. */
export async function recorded(events: readonly SpecEvent[]): Promise<{ store: EventStore; events: ProjectedEvent[] }> {
  let clock = T0;
  const store = createMemoryEventStore({ now: () => new Date(clock) });
  for (const e of events) {
    clock = T0 + (e.at ?? 0);
    await store.append(`run-${e.runId}`, [{ type: e.type, data: e.data, metadata: { correlationId: e.runId, actor: 'system:engine' } }]);
  }
  return { store, events: (await store.readAll()).map(asProjected) };
}

/**
 * Given events, the projection's state; also checks that replaying them all again changes
 * nothing (the position guard) and that a second fold from scratch gives the same bytes.
 */
export async function given<S extends ReadModelState>(projection: Projection<S>, events: readonly SpecEvent[]): Promise<S> {
  const { store, events: log } = await recorded(events);
  const fold = new ProjectionFold(projection, (a, b) => store.comparePositions(a, b));
  fold.applyFeed(log);
  const once = dumpState(fold.state);
  fold.applyFeed(log);
  for (const e of log) fold.apply(e);
  const twice = dumpState(fold.state);
  if (once !== twice) throw new Error(`${projection.name}: replaying the events again changed the state`);
  const again = new ProjectionFold(projection, (a, b) => store.comparePositions(a, b));
  again.applyFeed(log);
  if (dumpState(again.state) !== once) throw new Error(`${projection.name}: a second fold gave different bytes`);
  return fold.state;
}
