import { randomUUID } from 'node:crypto';
import type { Principal } from '../domain/events/common.js';
import type { RequesterEvent, RunEvent } from '../domain/events/index.js';
import type { SlotReleaseReason } from '../domain/events/requester-events.js';
import { type EventStore, WrongExpectedRevisionError } from '../domain/ports/event-store.js';
import {
  decideRequester,
  foldRequester,
  type HeldSlot,
  PendingLimitError,
  type RequesterCommand,
  type RequesterState,
  releasableSlots,
  requesterStreamId,
} from '../domain/requester/slots.js';
import { findGate, type RunState, TERMINAL_RUN } from '../domain/run/state.js';
import { loadRun } from './run-repository.js';

/** A gate a plan opens and leaves open: it needs a slot of its requester. */
export interface OpenedGate {
  readonly approvalId: string;
  readonly stepId: string;
}

export interface PendingLimitsOptions {
  readonly store: EventStore;
  /** The role's limit (every role has one: the policy's roles, else its default). */
  readonly limitOf: (role: string) => number;
  /** The engine's notion of now, as an ISO instant. */
  readonly now: () => string;
  /** How long a reserved slot whose gate never appeared in its run is kept. Default 60,000 ms. */
  readonly graceMs?: number;
  /** Re-decisions after losing a race on a requester's stream. Default 200. */
  readonly maxConflictRetries?: number;
  readonly onError: (error: unknown, requesterId: string) => void;
  /** Recorded as `instance` in the metadata of the events appended here. */
  readonly instanceId?: string;
  /** Slot ids (unique per reservation). */
  readonly newSlotId?: () => string;
}

/** Events that may close a gate: after appending one, the requester's slots are settled. */
const CLOSING = new Set<RunEvent['type']>(['ApprovalGranted', 'ApprovalDenied', 'ApprovalExpired', 'ApprovalCancelled', 'ApprovalAutoApproved', 'RunCompleted', 'RunFailed', 'RunCancelled']);
const ACTOR = 'system:pending-limits';

/**
 * The per-requester pending-approval limit as an invariant of the log. A gate's slot is reserved
 * on `requester-<id>` by an append with the expected revision (claim by append: two processes
 * cannot both take the last slot) BEFORE the run's stream records the gate; it is released by an
 * append on the same stream when the gate closes. What is held is only ever the fold of that stream;
 * which slots are free again is decided from the log (`releasableSlots`), so a release lost in a
 * crash is made by the next settle, and a slot whose gate never appeared is freed after a grace.
 */
export class PendingLimits {
  private readonly store: EventStore;
  private readonly graceMs: number;
  private readonly maxConflictRetries: number;
  private readonly newSlotId: () => string;
  /** The fold of each requester stream seen, with its revision: reads only catch up from there. */
  private readonly folds = new Map<string, { state: RequesterState; revision: number }>();
  /** One requester's reservations and settles go one at a time in this process (fewer conflicts). */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly options: PendingLimitsOptions) {
    this.store = options.store;
    this.graceMs = options.graceMs ?? 60_000;
    this.maxConflictRetries = options.maxConflictRetries ?? 200;
    this.newSlotId = options.newSlotId ?? randomUUID;
  }

  /**
   * Reserves a slot for every gate `plan` leaves open. When the requester has too few free slots:
   * a plan that starts the run is refused (PendingLimitError: nothing is appended anywhere); any
   * later plan is decided again with the steps beyond the free slots rejected (`replan`), which
   * fails them with POLICY `PENDING_LIMIT`. Returns the plan to append and the slots it holds.
   */
  async admit<P extends { readonly events: readonly RunEvent[]; readonly state: RunState }>(
    runId: string,
    plan: P,
    starting: boolean,
    replan: (denied: ReadonlyMap<string, string>) => P,
  ): Promise<{ plan: P; slots: HeldSlot[] }> {
    const denied = new Map<string, string>();
    for (let round = 0; round <= this.maxConflictRetries; round++) {
      const requester = plan.state.requestedBy;
      const gates = openedGates(plan.events, plan.state);
      if (!requester || gates.length === 0) return { plan, slots: [] };
      const result = await this.reserve(requester, runId, gates);
      if (!(result instanceof PendingLimitError)) return { plan, slots: result };
      if (starting) throw result;
      const free = Math.max(0, result.limit - result.pending);
      // Said as it will be once the free slots are taken by the gates that get them.
      const reason = new PendingLimitError(requester, result.limit, result.limit, 1).message;
      for (const gate of gates.slice(free)) denied.set(gate.stepId, reason);
      plan = replan(denied);
    }
    throw new Error(`run ${runId}: pending-approval slots still contended after ${this.maxConflictRetries} rounds`);
  }

  /** Gives back slots whose gates were not recorded after all (the run's append failed). */
  async abandon(requesterId: string, slots: readonly HeldSlot[]): Promise<void> {
    if (slots.length === 0) return;
    await this.serially(requesterId, () => this.releaseSlots(requesterId, slots.map((s) => ({ slotId: s.slotId, reason: 'not_opened' as const }))));
  }

  /** After a run append: when it closed a gate that was open (or ended the run), settle in the background. */
  afterAppend(before: RunState, events: readonly RunEvent[]): void {
    const requesterId = before.requestedBy?.id;
    if (!requesterId || !events.some((e) => CLOSING.has(e.type) && closesOpenGate(before, e))) return;
    const done = this.settle(requesterId).then(
      () => undefined,
      (error: unknown) => this.options.onError(error, requesterId),
    );
    this.background.add(done);
    void done.finally(() => this.background.delete(done));
  }

  /** Releases every slot of the requester that the log says is free again; returns how many. */
  settle(requesterId: string): Promise<number> {
    return this.serially(requesterId, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.releaseFromLog(requesterId, await this.load(requesterId));
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError) || attempt >= this.maxConflictRetries) throw error;
        }
      }
    });
  }

  /** The requester's slots as the log holds them now. */
  async held(requesterId: string): Promise<readonly HeldSlot[]> {
    return (await this.load(requesterId)).state.held;
  }

  /** Resolves once background settles have finished (for a clean close). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.background]);
  }

  private reserve(requester: Principal, runId: string, gates: readonly OpenedGate[]): Promise<HeldSlot[] | PendingLimitError> {
    const limit = this.options.limitOf(requester.role);
    return this.serially(requester.id, async () => {
      for (let attempt = 0; ; attempt++) {
        const fold = await this.load(requester.id);
        try {
          // Short of slots: first give back what the log says is free (a release lost in a crash,
          // a gate that never appeared), then decide on what is left.
          if (fold.state.held.length + gates.length > limit && (await this.releaseFromLog(requester.id, fold)) > 0) continue;
          const now = this.options.now();
          const slots = gates.map((g) => ({ slotId: this.newSlotId(), approvalId: g.approvalId, runId }));
          let events: RequesterEvent[];
          try {
            events = decideRequester({ type: 'ReserveSlots', requester, limit, slots, now }, fold.state);
          } catch (error) {
            if (error instanceof PendingLimitError) return error;
            throw error;
          }
          await this.append(requester.id, fold, events);
          return slots.map((s) => ({ ...s, reservedAt: now }));
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError) || attempt >= this.maxConflictRetries) throw error;
        }
      }
    });
  }

  /** Decides from the slots' runs which are free again and appends their release; returns how many. */
  private async releaseFromLog(requesterId: string, fold: { state: RequesterState; revision: number }): Promise<number> {
    if (fold.state.held.length === 0) return 0;
    const runs = new Map<string, RunState>();
    for (const runId of new Set(fold.state.held.map((s) => s.runId))) runs.set(runId, (await loadRun(this.store, runId)).state);
    const free = releasableSlots(fold.state, runs, this.options.now(), this.graceMs);
    if (free.length === 0) return 0;
    await this.decideAndAppend(requesterId, fold, { type: 'ReleaseSlots', slots: free.map((f) => ({ slotId: f.slot.slotId, reason: f.reason })), now: this.options.now() });
    return free.length;
  }

  private async releaseSlots(requesterId: string, slots: ReadonlyArray<{ slotId: string; reason: SlotReleaseReason }>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.decideAndAppend(requesterId, await this.load(requesterId), { type: 'ReleaseSlots', slots, now: this.options.now() });
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= this.maxConflictRetries) throw error;
      }
    }
  }

  private async decideAndAppend(requesterId: string, fold: { state: RequesterState; revision: number }, command: RequesterCommand): Promise<void> {
    const events = decideRequester(command, fold.state);
    if (events.length > 0) await this.append(requesterId, fold, events);
  }

  private async append(requesterId: string, fold: { state: RequesterState; revision: number }, events: RequesterEvent[]): Promise<void> {
    const stream = requesterStreamId(requesterId);
    try {
      const result = await this.store.append(
        stream,
        events.map((e) => ({ type: e.type, data: e.data, metadata: { correlationId: runOf(e, fold.state), actor: ACTOR, ...(this.options.instanceId !== undefined ? { instance: this.options.instanceId } : {}) } })),
        { expectedRevision: fold.revision < 0 ? 'no_stream' : fold.revision },
      );
      this.folds.set(requesterId, { state: foldRequester(events, fold.state), revision: result.nextExpectedRevision });
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) this.folds.delete(requesterId); // read it again, whole
      throw error;
    }
  }

  /** The requester's fold, caught up with its stream (reading only what came after the cached revision). */
  private async load(requesterId: string): Promise<{ state: RequesterState; revision: number }> {
    const cached = this.folds.get(requesterId) ?? { state: foldRequester([]), revision: -1 };
    const recorded = await this.store.readStream(requesterStreamId(requesterId), { fromRevision: cached.revision + 1 });
    if (recorded.length === 0) return cached;
    const fold = {
      state: foldRequester(recorded.map((e) => ({ type: e.type, data: e.data }) as RequesterEvent), cached.state),
      revision: recorded[recorded.length - 1]?.revision ?? cached.revision,
    };
    this.folds.set(requesterId, fold);
    return fold;
  }

  private serially<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const mine = previous.then(work, work);
    const tail = mine.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return mine;
  }
}

/** The gates `events` open that are still open in `state` (an AUTO gate closes in the same append). */
export function openedGates(events: readonly RunEvent[], state: RunState): OpenedGate[] {
  if (state.status !== 'RUNNING') return [];
  const out: OpenedGate[] = [];
  for (const e of events) {
    if (e.type !== 'ApprovalRequested') continue;
    if (findGate(state, e.data.approvalId)?.gate.status === 'OPEN') out.push({ approvalId: e.data.approvalId, stepId: e.data.stepId });
  }
  return out;
}

/** Whether `event` closes a gate that was open before it (or ends a run that had one open). */
function closesOpenGate(before: RunState, event: RunEvent): boolean {
  const open = (approvalId: string) => findGate(before, approvalId)?.gate.status === 'OPEN';
  if (event.type === 'RunCompleted' || event.type === 'RunFailed' || event.type === 'RunCancelled') {
    return !TERMINAL_RUN.has(before.status) && before.steps.some((s) => s.gate?.status === 'OPEN');
  }
  const data = event.data as { approvalId?: string };
  return typeof data.approvalId === 'string' && open(data.approvalId);
}

/** The run an event of a requester's stream concerns (its correlation id). */
function runOf(event: RequesterEvent, state: RequesterState): string {
  if (event.type === 'ApprovalSlotReserved') return event.data.runId;
  return state.held.find((s) => s.slotId === event.data.slotId)?.runId ?? 'unknown';
}
