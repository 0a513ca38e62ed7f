import { ValidationError } from '../../domain/errors.js';

/** The opaque cursor of a run's event: the run and the stream revision, bound together. */
export function encodeEventCursor(runId: string, revision: number): string {
  return Buffer.from(`ev:${runId}:${revision}`).toString('base64url');
}

/** The revision a run-event cursor stands for; a cursor of another run or not ours is refused. */
export function decodeEventCursor(cursor: string, runId: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^ev:([A-Za-z0-9_-]{1,100}):(\d{1,9})$/.exec(text);
  if (!match || match[1] !== runId) throw new ValidationError(`invalid cursor "${cursor.slice(0, 100)}" for run ${runId}`);
  return Number(match[2]);
}

/** A keyset cursor over (text, text), e.g. (startedAt, runId). */
export function encodeKey(key: readonly [string, string]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeKey(cursor: string): [string, string] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(key) && key.length === 2 && typeof key[0] === 'string' && typeof key[1] === 'string') return [key[0], key[1]];
  } catch {
    // refused below
  }
  throw new ValidationError(`invalid cursor "${cursor.slice(0, 100)}"`);
}
