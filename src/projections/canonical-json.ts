/**
 * JSON with object keys in sorted order and `undefined` members dropped: the same value always
 * gives the same bytes, whatever order its keys were added in. Rebuilt and incrementally built
 * read models are compared through it.
 */
export function canonicalJson(value: unknown): string {
  return write(value);
}

// String concatenation (V8 ropes) beats collecting parts: this runs for every saved document.
function write(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    // Strings, numbers, booleans; undefined, functions and symbols become null like JSON arrays do.
    return value === undefined || typeof value === 'function' || typeof value === 'symbol' ? 'null' : JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + write(value[i]);
    return `${out}]`;
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${write(member)}`;
    first = false;
  }
  return `${out}}`;
}
