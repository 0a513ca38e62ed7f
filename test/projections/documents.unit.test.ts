import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/audit/canonical-json.js';
import { Collection, type DocumentChange } from '../../src/projections/documents.js';

const changes = (c: Collection<unknown>): DocumentChange[] => {
  const into: DocumentChange[] = [];
  c.takeChanges('c', into);
  return into;
};

describe('canonical JSON', () => {
  it('gives the same bytes whatever order keys were added in, and drops undefined members', () => {
    const a = { b: 1, a: { y: [1, { q: 2, p: undefined, o: 'x' }], x: null }, c: undefined, 10: 'ten', 9: 'nine' };
    const b = { 9: 'nine', a: { x: null, y: [1, { o: 'x', q: 2 }] }, 10: 'ten', b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(b)).toBe('{"9":"nine","10":"ten","a":{"x":null,"y":[1,{"o":"x","q":2}]},"b":1}');
  });

  it('writes dates as ISO strings and undefined array items as null, and leaves its input as it was', () => {
    const value = { z: [undefined, new Date(0)], a: 1 };
    expect(canonicalJson(value)).toBe('{"a":1,"z":[null,"1970-01-01T00:00:00.000Z"]}');
    expect(Object.keys(value)).toEqual(['z', 'a']);
  });
});

describe('collections', () => {
  it('a document created and deleted between two saves is never written', () => {
    const c = new Collection<{ n: number }>();
    c.set('a', { n: 1 });
    c.set('b', { n: 2 });
    c.delete('a');
    expect(changes(c as Collection<unknown>).map((x) => [x.id, x.doc])).toEqual([['b', '{"n":2}']]);
  });

  it('a saved document deleted, created again and deleted again is deleted from the store', () => {
    const c = new Collection<{ n: number }>();
    c.set('a', { n: 1 });
    changes(c as Collection<unknown>);
    c.delete('a');
    c.set('a', { n: 2 });
    c.delete('a');
    expect(changes(c as Collection<unknown>)).toEqual([{ collection: 'c', id: 'a', doc: null }]);
    c.restore('r', '{"n":3}');
    c.delete('r');
    expect(changes(c as Collection<unknown>)).toEqual([{ collection: 'c', id: 'r', doc: null }]);
  });
});
