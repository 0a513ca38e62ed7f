import { z } from 'zod';
import { Instant, Principal, RunId } from './common.js';

/** One reserved slot: unique per reservation, so two engines racing for one gate never share one. */
export const SlotId = z.string().min(1).max(100);

/**
 * A requester took one of its role's pending-approval slots for a gate it is about to open. Appended
 * on `requester-<id>` BEFORE the run's stream records the gate (ApprovalRequested with approvalId).
 */
export const ApprovalSlotReserved = z.object({
  slotId: SlotId,
  approvalId: z.string().min(1).max(200),
  runId: RunId,
  requester: Principal,
  /** The role's limit this reservation was checked against. */
  limit: z.number().int().positive(),
  reservedAt: Instant,
});

/** Why a slot was given back. */
export const SlotReleaseReason = z.enum([
  /** The gate was decided, expired, cancelled or auto-approved. */
  'gate_closed',
  /** The run ended (completed, failed or cancelled) with the gate still open. */
  'run_ended',
  /** The reserving engine's append of the gate did not land (a conflict): the slot backs nothing. */
  'not_opened',
  /** The gate never appeared in its run within the grace (a crash between the two appends). */
  'orphaned',
]);
export type SlotReleaseReason = z.infer<typeof SlotReleaseReason>;

/** A slot was given back: the requester may open another gate. */
export const ApprovalSlotReleased = z.object({
  slotId: SlotId,
  approvalId: z.string().min(1).max(200),
  reason: SlotReleaseReason,
  releasedAt: Instant,
});
