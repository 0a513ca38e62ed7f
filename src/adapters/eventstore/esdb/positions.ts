import { ValidationError } from '../../../domain/errors.js';

/** A position in EventStoreDB's `$all`: commit and prepare positions, both uint64. */
export interface EsdbPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

const MAX_UINT64 = (1n << 64n) - 1n;
const CURSOR = /^(0|[1-9]\d{0,19}):(0|[1-9]\d{0,19})$/;

/**
 * The opaque cursor of an EventStoreDB position: `<commit>:<prepare>` in decimal. Both parts are
 * kept because the events of one append share a commit position and differ by prepare position.
 */
export function formatEsdbPosition(position: EsdbPosition): string {
  return `${position.commit}:${position.prepare}`;
}

/** The position a cursor stands for; ValidationError for anything this adapter did not issue. */
export function parseEsdbPosition(cursor: string): EsdbPosition {
  const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
  if (!match) throw new ValidationError(`invalid cursor "${String(cursor)}"`);
  const commit = BigInt(match[1] as string);
  const prepare = BigInt(match[2] as string);
  if (commit > MAX_UINT64 || prepare > MAX_UINT64) throw new ValidationError(`invalid cursor "${cursor}"`);
  return { commit, prepare };
}

/** $all order: by commit position, then by prepare position. */
export function compareEsdbPositions(a: EsdbPosition, b: EsdbPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}
