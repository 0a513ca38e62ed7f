import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonWithout } from '../../src/domain/audit/canonical-json.js';

describe('canonical JSON', () => {
  it('sorts keys at every depth, whatever order they were added in, and leaves the input untouched', () => {
    const a = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } };
    const b = { a: { c: 'x', d: [3, { y: null, z: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
    expect(Object.keys(a)).toEqual(['b', 'a']);
  });
  it('follows JSON.stringify for what JSON cannot hold', () => {
    expect(canonicalJson({ u: undefined, f: () => 1, n: NaN, d: new Date(0), arr: [undefined, 1] })).toBe('{"arr":[null,1],"d":"1970-01-01T00:00:00.000Z","n":null}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('é"\n')).toBe(JSON.stringify('é"\n'));
  });
  it('keeps a parsed "__proto__" member, in order or not, nested or not: it is data like any other key', () => {
    const parsed = JSON.parse('{"z":1,"__proto__":{"b":2,"a":1},"in":{"y":1,"__proto__":"x"}}') as object;
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"a":1,"b":2},"in":{"__proto__":"x","y":1},"z":1}');
    expect(canonicalJson(parsed)).not.toBe(canonicalJson({ z: 1, in: { y: 1 } }));
  });
});

/**
 * The implementation stored chains were hashed with (reorder what is out of order, then
 * JSON.stringify), copied here unchanged as the reference: any faster writer must give the same
 * bytes for every value, or old streams stop verifying.
 */
function reference(value: unknown): string {
  const put = (out: Record<string, unknown>, k: string, v: unknown) => {
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  };
  const sorted = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return sorted((v as { toJSON(): unknown }).toJSON());
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const s = sorted(v[i]);
        if (s !== v[i]) (copy ??= v.slice())[i] = s;
      }
      return copy ?? v;
    }
    const keys = Object.keys(v);
    let inOrder = true;
    for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) inOrder = false;
    const source = v as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    if (!inOrder) {
      out = {};
      for (const k of keys.sort()) put(out, k, source[k]);
    }
    for (const k of keys) {
      const s = sorted(source[k]);
      if (s !== source[k]) {
        out ??= { ...source };
        put(out, k, s);
      }
    }
    return out ?? v;
  };
  return JSON.stringify(sorted(value)) ?? 'null';
}

/** A small deterministic generator (no randomness in what a failure reports). */
function* values(seed: number, count: number): Generator<unknown> {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const keys = ['a', 'b', 'Z', '_u', 'a-b', 'ä', '😀', '0', '7', '10', '4294967294', '4294967295', '01', '-1', '1.5', '__proto__', 'toJSON', 'stepId', 'tool', 'worker'];
  const strings = ['', 'x', 'é"\\\n', '\u2028', '\u0000\u001f', '\ud800', '\udc00x', '😀', 'a\u007f', 'deploy:production'];
  const numbers = [0, -0, 1, -1.5, 1e21, 1e-7, 0.1 + 0.2, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER];
  const gen = (depth: number): unknown => {
    const r = next();
    if (depth > 3 || r < 0.35) {
      const p = next();
      if (p < 0.35) return strings[Math.floor(next() * strings.length)];
      if (p < 0.65) return numbers[Math.floor(next() * numbers.length)];
      if (p < 0.75) return next() < 0.5;
      if (p < 0.85) return null;
      if (p < 0.9) return undefined;
      if (p < 0.95) return new Date(Math.floor(next() * 1e12));
      return () => 1;
    }
    if (r < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => gen(depth + 1));
    const o: Record<string, unknown> = next() < 0.1 ? (Object.create(null) as Record<string, unknown>) : {};
    for (let i = Math.floor(next() * 6); i > 0; i--) {
      const k = keys[Math.floor(next() * keys.length)] as string;
      Object.defineProperty(o, k, { value: k === 'toJSON' ? 'not a function' : gen(depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return o;
  };
  for (let i = 0; i < count; i++) yield gen(0);
}

describe('canonical JSON against its definition', () => {
  it('gives the bytes of the reference form for 5,000 generated values (keys in any order, escapes, integer-like keys, Dates, holes, null prototypes)', () => {
    for (const v of values(16, 5_000)) expect(canonicalJson(v)).toBe(reference(v));
  });
  it('gives the reference bytes for what is not a plain object: boxed primitives, class instances, a Map, toJSON results, sparse arrays', () => {
    class Point { constructor(readonly y: number, readonly x: number) {} }
    // eslint-disable-next-line no-sparse-arrays
    const odd: unknown[] = [new String('s'), new Number(2), new Boolean(false), new Point(1, 2), new Map([[1, 2]]), { toJSON: () => ({ b: 1, a: 2 }) }, { toJSON: () => undefined }, [1, , 3], Object.assign([2, 1], { extra: 1 })];
    for (const v of odd) expect(canonicalJson(v)).toBe(reference(v));
    expect(canonicalJson({ nested: odd })).toBe(reference({ nested: odd }));
  });

  it('writes an array that carries its own toJSON as toJSON says, like the definition', () => {
    const list = Object.assign([2, 1], { toJSON: () => ({ b: 1, a: 2 }) });
    expect(canonicalJson(list)).toBe(reference(list));
    expect(canonicalJson({ v: list, w: [list] })).toBe(reference({ v: list, w: [list] }));
  });
  it('leaves members out on request exactly as a copy without them would be written', () => {
    for (const v of values(7, 2_000)) {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) continue;
      const o = v as Record<string, unknown>;
      const rest: Record<string, unknown> = {};
      for (const k of Object.keys(o)) if (k !== 'a' && k !== '0') Object.defineProperty(rest, k, { value: o[k], enumerable: true, writable: true, configurable: true });
      expect(canonicalJsonWithout(o, new Set(['a', '0']))).toBe(reference(rest));
      const noA: Record<string, unknown> = {};
      for (const k of Object.keys(o)) if (k !== 'a') Object.defineProperty(noA, k, { value: o[k], enumerable: true, writable: true, configurable: true });
      expect(canonicalJsonWithout(o, 'a')).toBe(reference(noA));
    }
  });
  it('throws on BigInt as JSON.stringify does', () => {
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});
