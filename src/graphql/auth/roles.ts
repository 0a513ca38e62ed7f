import type { Role } from '../../domain/roles.js';

export { ROLES, type Role } from '../../domain/roles.js';

/** Roles that may decide approvals (which gate accepts which is the domain's call). */
export const APPROVER_ROLES: Role[] = ['developer', 'tech_lead', 'devops_engineer'];

/** Roles that may start runs and act on their own runs and requests. */
export const ACTOR_ROLES: Role[] = ['requester', ...APPROVER_ROLES];

/** Roles that see tool inputs and outputs (viewers see the shape of runs, not their payloads). */
export const PAYLOAD_ROLES: Role[] = ACTOR_ROLES;
