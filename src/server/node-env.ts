/**
 * Imported by the server's entry points before any library: graphql-js (its `instanceOf`),
 * graphql-armor and express read NODE_ENV once, when they load. Unset, the server runs as in
 * production (graphql-js's development type check cost 0.4–0.5 % of the API server's CPU); a value
 * the operator sets is kept. What NODE_ENV would change in Apollo (introspection, stack traces,
 * landing page, signal handlers) is set explicitly in src/graphql/http/server.ts.
 */
process.env.NODE_ENV ??= 'production';
