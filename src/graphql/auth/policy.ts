import type { AuthPrincipal } from '../context.js';
import { unauthorized } from '../errors.js';

/** Listing every open approval: admins and viewers (observers); others list theirs or what they may decide. */
export function assertMayListAll(p: AuthPrincipal): void {
  if (!p.isAdmin && p.role !== 'viewer') throw unauthorized('scope ALL is for admins and viewers; use ACTIONABLE or MINE');
}

/** Principals in the domain's shape: id and role. */
export function domainPrincipal(p: AuthPrincipal): { id: string; role: string } {
  return { id: p.id, role: p.role };
}
