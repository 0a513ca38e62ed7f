/**
 * Canonical JSON: object keys sorted, no white space, members whose value is undefined dropped,
 * undefined in arrays written as null (as JSON.stringify does). The same value always gives the
 * same bytes, which is what a hash over stored data needs.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string') return JSON.stringify(value);
    return value === undefined || typeof value === 'function' || typeof value === 'symbol' ? 'null' : (JSON.stringify(value) ?? 'null');
  }
  // String concatenation (V8 ropes) beats building arrays: this runs for every appended event.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON(): unknown }).toJSON());
  const keys = Object.keys(value);
  if (keys.length > 1) keys.sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${out}}`;
}
