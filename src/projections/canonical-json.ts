/**
 * JSON with object keys in sorted order and `undefined` members dropped: the same value always
 * gives the same bytes, whatever order its keys were added in. Rebuilt and incrementally built
 * read models are compared through it.
 *
 * The value is first put in key order (objects whose keys are already in order, and arrays of
 * such values, are used as they are; others are copied with their keys sorted), then written by
 * `JSON.stringify` in one native pass. Writing the text piece by piece in JavaScript builds a rope
 * per document, which costs several times more at rebuild scale (hundreds of MB of documents).
 * Integer-like keys come first in ascending order (JavaScript's own order of such keys), then the
 * others sorted: still one order per set of keys.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(ordered(value)) ?? 'null';
}

function ordered(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const next = ordered(item);
      if (next !== item) {
        copy ??= value.slice(0, i);
        copy.push(next);
      } else if (copy) copy.push(item);
    }
    return copy ?? value;
  }
  if (value instanceof Date) return value;
  const keys = Object.keys(value);
  let sorted = true;
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      sorted = false;
      break;
    }
  }
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  if (!sorted) {
    keys.sort();
    copy = {};
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const member = source[key];
    const next = ordered(member);
    if (copy) copy[key] = next;
    else if (next !== member) {
      copy = {};
      for (let j = 0; j < i; j++) copy[keys[j] as string] = source[keys[j] as string];
      copy[key] = next;
    }
  }
  return copy ?? value;
}
