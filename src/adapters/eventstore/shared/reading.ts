import { ValidationError } from '../../../domain/errors.js';
import type { AllFilter } from '../../../domain/ports/event-store.js';

/** Events a subscription reads per round trip while catching up. */
export const pageSize = 512;

/** maxCount as a positive integer (no limit when omitted). */
export function normalizeCount(maxCount: number | undefined): number {
  if (maxCount === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxCount) || maxCount < 0) {
    throw new ValidationError(`maxCount must be a whole number >= 0, not ${maxCount}`);
  }
  return maxCount;
}

/** Whether a stored event passes a `$all` filter (stream prefix and event type). */
export function matchesFilter(row: { streamId: string; type: string }, filter: AllFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.streamPrefix && !filter.streamPrefix.some((p) => row.streamId.startsWith(p))) return false;
  if (filter.eventTypes && !filter.eventTypes.includes(row.type)) return false;
  return true;
}

/** A stream revision given by a caller: a whole number >= 0. */
export function normalizeRevision(revision: number | undefined, fallback: number): number {
  if (revision === undefined) return fallback;
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new ValidationError(`fromRevision must be a whole number >= 0, not ${revision}`);
  }
  return revision;
}

/** A subscription's exclusive start revision: -1 (from the start) or a revision >= 0. */
export function normalizeAfterRevision(revision: number): number {
  if (!Number.isSafeInteger(revision) || revision < -1) {
    throw new ValidationError(`afterRevision must be a whole number >= 0, not ${revision}`);
  }
  return revision;
}
