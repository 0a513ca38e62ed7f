import { ValidationError } from '../../../domain/errors.js';

/**
 * Cursors of the stores whose global order is a dense sequence (memory, SQLite): the sequence
 * number in decimal. Callers treat them as opaque.
 */
export function parseSequencePosition(position: string): number {
  if (typeof position !== 'string' || !/^(0|[1-9]\d{0,15})$/.test(position)) {
    throw new ValidationError(`invalid cursor "${String(position)}"`);
  }
  return Number(position);
}

export function formatSequencePosition(sequence: number): string {
  return String(sequence);
}

export function compareSequencePositions(a: string, b: string): number {
  return parseSequencePosition(a) - parseSequencePosition(b);
}
