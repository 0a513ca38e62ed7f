import type { AuthPrincipal, GraphQLContext } from '../context.js';
import { unauthenticated } from '../errors.js';

/** The caller of an `@Authorized` operation (present by then; checked again for safety). */
export function principalOf(ctx: GraphQLContext): AuthPrincipal {
  if (!ctx.principal) throw unauthenticated();
  return ctx.principal;
}
