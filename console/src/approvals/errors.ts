import type { CombinedError } from '@urql/core';

/**
 * The server's own words for a refusal ("alice requested this and may not decide it"), without
 * urql's "[GraphQL]" prefix; a network failure says so.
 */
export function refusalText(error: CombinedError | undefined): string | undefined {
  if (!error) return undefined;
  const first = error.graphQLErrors[0];
  if (first) return first.message;
  if (error.networkError) return `The server cannot be reached (${error.networkError.message}).`;
  return error.message;
}
