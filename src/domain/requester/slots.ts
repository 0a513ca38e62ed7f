import { IllegalStateError, assertNever } from '../errors.js';
import type { Principal } from '../events/common.js';
import type { RequesterEvent } from '../events/index.js';
import type { SlotReleaseReason } from '../events/requester-events.js';
import { findGate, type RunState, TERMINAL_RUN } from '../run/state.js';

/** A slot a requester holds: one open (or about to open) approval gate. */
export interface HeldSlot {
  readonly slotId: string;
  readonly approvalId: string;
  readonly runId: string;
  readonly reservedAt: string;
}

/** A requester's pending-approval slots: only ever the fold of its `requester-<id>` stream. */
export interface RequesterState {
  /** Slots reserved and not released, in reservation order. */
  readonly held: readonly HeldSlot[];
  /** How many events the fold has seen: the stream's revision + 1. */
  readonly version: number;
}

/** Reserve one slot per gate, all or none: refused when the role's limit would be passed. */
export interface ReserveSlots {
  readonly type: 'ReserveSlots';
  readonly requester: Principal;
  readonly limit: number;
  readonly slots: ReadonlyArray<{ readonly slotId: string; readonly approvalId: string; readonly runId: string }>;
  readonly now: string;
}

/** Give slots back; slots not held (already released) are ignored, so a release may be repeated. */
export interface ReleaseSlots {
  readonly type: 'ReleaseSlots';
  readonly slots: ReadonlyArray<{ readonly slotId: string; readonly reason: SlotReleaseReason }>;
  readonly now: string;
}

/** What a requester's stream can be asked. */
export type RequesterCommand = ReserveSlots | ReleaseSlots;

/** The requester has no free slot for what it asks; `free` says how many it has. */
export class PendingLimitError extends IllegalStateError {
  constructor(
    requester: Principal,
    readonly pending: number,
    readonly limit: number,
    readonly needed: number,
  ) {
    super(
      `pending limit reached: ${requester.id} has ${pending} open approval requests; role ${requester.role} allows ${limit}` +
        (needed > 1 ? ` (this needs ${needed})` : ''),
      { pending, limit, needed, code: 'PENDING_LIMIT' },
    );
  }
}

/** The stream of a requester's slots. Ids are URI-encoded: a principal id may hold any character. */
export function requesterStreamId(requesterId: string): string {
  return `requester-${encodeURIComponent(requesterId)}`;
}

export function initialRequesterState(): RequesterState {
  return { held: [], version: 0 };
}

/** Decides a requester command: the events to append, or a typed DomainError. Pure. */
export function decideRequester(command: RequesterCommand, state: RequesterState): RequesterEvent[] {
  switch (command.type) {
    case 'ReserveSlots': {
      const held = new Set(state.held.map((s) => s.slotId));
      const dup = command.slots.find((s) => held.has(s.slotId));
      if (dup) throw new IllegalStateError(`slot ${dup.slotId} is already reserved`, { slotId: dup.slotId });
      if (state.held.length + command.slots.length > command.limit) {
        throw new PendingLimitError(command.requester, state.held.length, command.limit, command.slots.length);
      }
      return command.slots.map((s) => ({
        type: 'ApprovalSlotReserved',
        data: { slotId: s.slotId, approvalId: s.approvalId, runId: s.runId, requester: command.requester, limit: command.limit, reservedAt: command.now },
      }));
    }
    case 'ReleaseSlots': {
      const reasons = new Map(command.slots.map((s) => [s.slotId, s.reason]));
      return state.held.flatMap((s): RequesterEvent[] => {
        const reason = reasons.get(s.slotId);
        return reason ? [{ type: 'ApprovalSlotReleased', data: { slotId: s.slotId, approvalId: s.approvalId, reason, releasedAt: command.now } }] : [];
      });
    }
    default:
      return assertNever(command, 'requester command');
  }
}

/** Applies one event to a requester's state. Pure. */
export function evolveRequester(state: RequesterState, event: RequesterEvent): RequesterState {
  switch (event.type) {
    case 'ApprovalSlotReserved': {
      const d = event.data;
      return { held: [...state.held, { slotId: d.slotId, approvalId: d.approvalId, runId: d.runId, reservedAt: d.reservedAt }], version: state.version + 1 };
    }
    case 'ApprovalSlotReleased':
      return { held: state.held.filter((s) => s.slotId !== event.data.slotId), version: state.version + 1 };
    default:
      return assertNever(event, 'requester event');
  }
}

/** Folds a requester's stream. */
export function foldRequester(events: Iterable<RequesterEvent>, from = initialRequesterState()): RequesterState {
  let state = from;
  for (const event of events) state = evolveRequester(state, event);
  return state;
}

/**
 * Which held slots the log says are free again, and why: the gate is closed, or its run ended, or
 * the gate never appeared in its run although `graceMs` have passed since the reservation (the
 * reserving engine died between its two appends). `runs` holds the state of each slot's run.
 */
export function releasableSlots(
  state: RequesterState,
  runs: ReadonlyMap<string, RunState>,
  now: string,
  graceMs: number,
): Array<{ slot: HeldSlot; reason: SlotReleaseReason }> {
  const out: Array<{ slot: HeldSlot; reason: SlotReleaseReason }> = [];
  for (const slot of state.held) {
    const run = runs.get(slot.runId);
    const gate = run ? findGate(run, slot.approvalId)?.gate : undefined;
    if (gate && gate.status !== 'OPEN') out.push({ slot, reason: 'gate_closed' });
    // A run that ended with a gate open no longer asks anyone (nothing expires it): not pending.
    else if (run && gate && TERMINAL_RUN.has(run.status)) out.push({ slot, reason: 'run_ended' });
    else if (!gate && Date.parse(slot.reservedAt) + graceMs <= Date.parse(now)) out.push({ slot, reason: 'orphaned' });
  }
  return out;
}
