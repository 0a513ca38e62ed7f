import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkCost } from '../../src/graphql/http/limits.js';
import { gatehouseSchema } from '../../src/graphql/schema.js';

describe('cost limit, computed once per document and cost-relevant variables', () => {
  it('the same document is refused or allowed by the values it passes to `first` and to directives, every time', async () => {
    const schema = await gatehouseSchema();
    const doc = parse(`query($n: Int, $id: ID!, $skip: Boolean!) { runs(first: $n) { edges { node { trace { position } } } } run(runId: $id) @skip(if: $skip) { trace { position } } }`);
    const cost = (variables: Record<string, unknown>) => {
      try {
        checkCost(schema, doc, variables, undefined, 0);
        return 'ok';
      } catch (error) {
        return (error as { extensions?: { cost?: number } }).extensions?.cost;
      }
    };
    // Computed once, then served from the cache: the variables that matter still decide.
    for (let i = 0; i < 3; i++) {
      expect(cost({ n: 1, id: `r${i}`, skip: true })).toBe(104);
      expect(cost({ n: 100, id: `r${i}`, skip: true })).toBe(10_301);
      expect(cost({ n: 5, id: `r${i}`, skip: true })).toBe(516);
      expect(cost({ n: 5, id: `r${i}`, skip: false })).toBe(618); // a run's trace counts 100 entries
    }
  });
});
