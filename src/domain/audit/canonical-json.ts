/**
 * Canonical JSON: object keys sorted, no white space, members whose value is undefined dropped,
 * undefined in arrays written as null (exactly JSON.stringify's rules otherwise). The same value
 * always gives the same bytes, which is what a hash over stored data needs, and what the
 * projections compare read-model documents by. Integer-like keys ("0", "10") come first in
 * ascending order, as JavaScript orders such keys; the others sorted by UTF-16 code units. The
 * audit chain's hashes are over this form: changing it breaks verification of stored events.
 */
export function canonicalJson(value: unknown): string {
  // Reorder only what is out of order, then let the native JSON.stringify do the writing: this runs
  // for every appended event, and the native writer is several times faster than one in JS.
  return JSON.stringify(sorted(value)) ?? 'null';
}

function sorted(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sorted((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const s = sorted(v);
      if (s !== v) (copy ??= value.slice())[i] = s;
    }
    return copy ?? value;
  }
  const keys = Object.keys(value);
  let inOrder = true;
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      inOrder = false;
      break;
    }
  }
  const source = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  if (!inOrder) {
    out = {};
    for (const k of keys.sort()) put(out, k, source[k]);
  }
  for (const k of keys) {
    const v = source[k];
    const s = sorted(v);
    if (s !== v) {
      out ??= { ...source };
      put(out, k, s);
    }
  }
  return out ?? value;
}

/**
 * Sets a member. On a plain object `out.__proto__ = v` sets the prototype instead of a member, so a
 * parsed "__proto__" member would vanish from the hash and ride along unsigned: define it instead.
 */
function put(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}
