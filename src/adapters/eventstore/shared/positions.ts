import { ValidationError } from '../../../domain/errors.js';

/**
 * Cursors of the stores whose global order is a dense sequence (memory, SQLite): the sequence
 * number in decimal. Callers treat them as opaque.
 */
export function parseSequencePosition(position: string): number {
  if (!isSequence(position)) throw new ValidationError(`invalid cursor "${String(position)}"`);
  return Number(position);
}

/**
 * `^(0|[1-9]\d{0,15})$` without a regular expression: every projection compares every event's
 * cursor with its own on a rebuild, and the loop is several times cheaper than the regex.
 */
function isSequence(position: unknown): position is string {
  if (typeof position !== 'string') return false;
  const n = position.length;
  if (n === 0 || n > 16) return false;
  const first = position.charCodeAt(0);
  if (first === 48) return n === 1; // "0" alone: no leading zeros
  if (first < 49 || first > 57) return false;
  for (let i = 1; i < n; i++) {
    const c = position.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function formatSequencePosition(sequence: number): string {
  return String(sequence);
}

export function compareSequencePositions(a: string, b: string): number {
  return parseSequencePosition(a) - parseSequencePosition(b);
}
