import { describe, expect, it } from 'vitest';
import { layoutDag } from './dag';

const step = (id: string, dependsOn: string[] = []) => ({ id, dependsOn, status: 'PENDING', tool: 't' });

describe('the steps DAG layout', () => {
  it('puts each step one layer after its latest dependency, rows in plan order', () => {
    const { nodes, edges, layers } = layoutDag([step('a'), step('b'), step('c', ['a']), step('d', ['a', 'c']), step('e', ['b'])]);
    expect(nodes.map((n) => [n.step.id, n.layer, n.row])).toEqual([['a', 0, 0], ['b', 0, 1], ['c', 1, 0], ['d', 2, 0], ['e', 1, 1]]);
    expect(edges).toEqual([{ from: 'a', to: 'c' }, { from: 'a', to: 'd' }, { from: 'c', to: 'd' }, { from: 'b', to: 'e' }]);
    expect(layers).toBe(3);
  });

  it('a dependency listed before its step is still laid out first', () => {
    expect(layoutDag([step('late', ['early']), step('early')]).nodes.map((n) => [n.step.id, n.layer])).toEqual([['late', 1], ['early', 0]]);
  });

  it('does not break on an unknown dependency or a cycle', () => {
    expect(layoutDag([step('a', ['ghost'])])).toMatchObject({ edges: [], layers: 1 });
    const cyclic = layoutDag([step('a', ['b']), step('b', ['a'])]);
    expect(cyclic.nodes).toHaveLength(2);
    expect(layoutDag([])).toEqual({ nodes: [], edges: [], layers: 0 });
  });
});
