import type { Position } from '../../domain/ports/event-store.js';
import type { ProjectionError } from '../projection.js';
import type { Handle } from './handles.js';

type Compare = (a: Position, b: Position) => number;

/** The oldest cursor these projections applied (undefined if one applied nothing yet): where a shared read starts. */
export function oldestApplied(compare: Compare, handles: Iterable<Handle>): Position | undefined {
  let from: Position | undefined;
  for (const h of handles) {
    const applied = h.fold.applied;
    if (applied === undefined) return undefined;
    if (from === undefined || compare(applied, from) < 0) from = applied;
  }
  return from;
}

/** The furthest cursor one of these projections applied: no waiter beyond it can be done. */
export function furthestApplied(handles: Iterable<Handle>, compare: Compare): Position | undefined {
  let furthest: Position | undefined;
  for (const h of handles) {
    const applied = h.fold.applied;
    if (applied !== undefined && (furthest === undefined || compare(applied, furthest) > 0)) furthest = applied;
  }
  return furthest;
}

/** Whether every one of these projections applied `cursor`. */
export function allReached(handles: Iterable<Handle>, cursor: Position, compare: Compare): boolean {
  for (const h of handles) {
    const applied = h.fold.applied;
    if (applied === undefined || compare(applied, cursor) < 0) return false;
  }
  return true;
}

/** The error of the first of these projections an event stopped. */
export function firstFailure(handles: Iterable<Handle>): ProjectionError | undefined {
  for (const h of handles) if (h.status === 'failed') return h.error;
  return undefined;
}
