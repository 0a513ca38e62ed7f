import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/audit/canonical-json.js';

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
