import { ApolloArmor } from '@escape.tech/graphql-armor';
import { type DocumentNode, type GraphQLSchema, type ValidationRule, visit } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { gqlError } from '../errors.js';

/** What one request may ask for. */
export interface Limits {
  /** Deepest selection, fragments flattened; the standard introspection query fits. */
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  /** Lexical tokens in a document (Apollo's and graphql-js's parser limit). */
  readonly maxTokens: number;
  /** Estimated cost: 1 per field, list fields times their `first` (default 20). */
  readonly maxCost: number;
  /** JSON body of an HTTP request, in bytes. */
  readonly maxBodyBytes: number;
  /** One graphql-ws message, in bytes (bigger closes the socket with 1009). */
  readonly maxMessageBytes: number;
  readonly maxSubscriptionsPerConnection: number;
}

export const defaultLimits: Limits = {
  maxDepth: 15,
  maxAliases: 15,
  maxDirectives: 20,
  maxTokens: 4_000,
  maxCost: 10_000,
  maxBodyBytes: 256 * 1024,
  maxMessageBytes: 256 * 1024,
  maxSubscriptionsPerConnection: 25,
};

/** Depth, alias and directive limits as validation rules (graphql-armor's), for HTTP and WebSocket alike. */
export function limitRules(limits: Limits): ValidationRule[] {
  return new ApolloArmor({
    // Introspection counts too (its ofType chains are the only deep nesting this schema allows).
    maxDepth: { n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: false },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    // Parse errors from armor's token limit become HTTP 500: the parser's maxTokens is used instead.
    maxTokens: { enabled: false },
    // Armor's cost ignores list sizes: graphql-query-complexity below counts them.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect().validationRules;
}

/**
 * Refuses an operation whose estimated cost (list sizes from `first`, variables applied) is over
 * the limit. The cost of a document only depends on the variables it passes to `first` or to a
 * directive (`@skip(if: $x)`), so it is computed once per document and such values, not per
 * request: Apollo hands the same parsed document to every request with the same query text.
 */
export function checkCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined, maxCost: number): void {
  const known = costCache.get(document) ?? newCostEntry(document);
  const key = `${operationName ?? ''}\u0000${known.relevant.length === 0 ? '' : JSON.stringify(known.relevant.map((name) => variables?.[name] ?? null))}`;
  let cost = known.costs.get(key);
  if (cost === undefined) {
    try {
      cost = getComplexity({
        schema,
        query: document,
        variables: variables ?? {},
        operationName,
        estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
      });
    } catch {
      return; // variables that do not fit are refused by execution with a proper message
    }
    if (known.costs.size >= 32) known.costs.clear();
    known.costs.set(key, cost);
  }
  if (cost > maxCost) throw gqlError('QUERY_TOO_COMPLEX', `operation cost ${cost} is over the limit of ${maxCost}`, { cost, maxCost });
}

interface CostEntry {
  /** Variables the cost depends on: those passed to a `first` argument or to a directive. */
  readonly relevant: readonly string[];
  /** Cost by operation name and the values of `relevant`. */
  readonly costs: Map<string, number>;
}

const costCache = new WeakMap<DocumentNode, CostEntry>();

function newCostEntry(document: DocumentNode): CostEntry {
  const relevant = new Set<string>();
  let inDirective = 0;
  visit(document, {
    Directive: { enter: () => void inDirective++, leave: () => void inDirective-- },
    Argument(node) {
      if (inDirective === 0 && node.name.value !== 'first') return;
      visit(node.value, { Variable: (v) => void relevant.add(v.name.value) });
    },
  });
  const entry: CostEntry = { relevant: [...relevant], costs: new Map() };
  costCache.set(document, entry);
  return entry;
}
