import type { RunState } from '../../domain/run/state.js';
import type { AuthPrincipal } from '../context.js';
import { unauthorized } from '../errors.js';
import { OPERATOR_ROLES } from './roles.js';

/** Cancelling or resuming a run: its requester, an operator role, or an admin. */
export function assertMayOperateRun(p: AuthPrincipal, run: RunState): void {
  if (p.isAdmin || run.requestedBy?.id === p.id || (OPERATOR_ROLES as string[]).includes(p.role)) return;
  throw unauthorized(`only the requester of run ${run.runId}, a tech lead, a devops engineer or an admin may do this`);
}

/** Listing every open approval: admins and viewers (observers); others list theirs or what they may decide. */
export function assertMayListAll(p: AuthPrincipal): void {
  if (!p.isAdmin && p.role !== 'viewer') throw unauthorized('scope ALL is for admins and viewers; use ACTIONABLE or MINE');
}

/** Principals in the domain's shape: id and role. */
export function domainPrincipal(p: AuthPrincipal): { id: string; role: string } {
  return { id: p.id, role: p.role };
}
