import type { AuthChecker } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import { unauthenticated } from '../errors.js';

/**
 * `@Authorized()` needs a principal; `@Authorized(roles)` one of those roles (admin passes all).
 * No principal is UNAUTHENTICATED; a principal without the role is UNAUTHORIZED.
 */
export const authChecker: AuthChecker<GraphQLContext, string> = ({ context }, roles) => {
  const principal = context.principal;
  if (!principal) throw unauthenticated();
  return roles.length === 0 || principal.isAdmin || roles.includes(principal.role);
};
