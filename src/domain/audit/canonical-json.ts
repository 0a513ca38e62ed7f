/**
 * Canonical JSON: object keys sorted, no white space, members whose value is undefined dropped,
 * undefined in arrays written as null (exactly JSON.stringify's rules otherwise). The same value
 * always gives the same bytes, which is what a hash over stored data needs, and what the
 * projections compare read-model documents by. Integer-like keys ("0", "10") come first in
 * ascending order, as JavaScript orders such keys; the others sorted by UTF-16 code units. The
 * audit chain's hashes are over this form: changing it breaks verification of stored events.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

/**
 * {@link canonicalJson} of an object without some of its members (the chain hashes metadata without
 * its own `hash`, a signature covers it without the signatures), written without copying the object.
 */
export function canonicalJsonWithout(value: Readonly<Record<string, unknown>>, left: string | ReadonlySet<string>): string {
  if (!isPlainObject(value)) {
    const rest: Record<string, unknown> = {};
    for (const k of Object.keys(value)) if (!(typeof left === 'string' ? k === left : left.has(k))) put(rest, k, value[k]);
    return canonicalJson(rest);
  }
  return writeObject(value, left);
}

// This runs for every appended event (data, then metadata). It writes plain objects, arrays and
// primitives itself, with no copy of any object and no sorting where keys are already in order
// (the profile had the former copy-then-JSON.stringify form at about a third of an append's JS);
// anything else (a Date, a class instance, a boxed primitive, a Map) goes through the general form
// below, which is the definition and stays the reference the tests compare against.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      // toJSON first, as JSON.stringify and the definition do: an array may carry its own.
      if (Array.isArray(value)) return typeof (value as { toJSON?: unknown }).toJSON === 'function' ? general(value) : writeArray(value);
      return isPlainObject(value) ? writeObject(value as Record<string, unknown>, undefined) : general(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      return general(value); // JSON.stringify's own TypeError
  }
}

function writeArray(value: readonly unknown[]): string {
  if (value.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ',';
    out += write(value[i]) ?? 'null';
  }
  return `${out}]`;
}

function writeObject(value: Readonly<Record<string, unknown>>, left: string | ReadonlySet<string> | undefined): string {
  const keys = orderedKeys(value);
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (left !== undefined && (typeof left === 'string' ? k === left : left.has(k))) continue;
    const v = write(value[k]);
    if (v === undefined) continue;
    out += `${first ? '' : ','}${write(k) as string}:${v}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The keys in canonical order. Object.keys lists integer-like keys first in ascending order and the
 * rest in insertion order: only that rest may need sorting, and it usually needs none.
 */
function orderedKeys(value: object): string[] {
  const keys = Object.keys(value);
  let start = 0;
  while (start < keys.length && isArrayIndex(keys[start] as string)) start++;
  for (let i = start + 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      const rest = keys.slice(start).sort();
      for (let j = 0; j < rest.length; j++) keys[start + j] = rest[j] as string;
      break;
    }
  }
  return keys;
}

/** Whether JavaScript orders this key as an integer index (a canonical uint32 below 2^32 - 1). */
function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57) return false;
  if (key.length > 10 || !/^(?:0|[1-9][0-9]*)$/.test(key)) return false;
  return Number(key) < 4294967295;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** The definition: reorder what is out of order, then let JSON.stringify write it. */
function general(value: unknown): string | undefined {
  return JSON.stringify(sorted(value));
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
