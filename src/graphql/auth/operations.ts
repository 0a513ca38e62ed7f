import { ACTOR_ROLES, APPROVER_ROLES, PAYLOAD_ROLES, type Role } from './roles.js';

/**
 * Which roles may call each operation (admin may call all). Queries and subscriptions need any
 * authenticated principal; what they return is narrowed per field and per item.
 */
export const OPERATION_ROLES = {
  startRun: ACTOR_ROLES,
  cancelRun: ACTOR_ROLES,
  resumeRun: ACTOR_ROLES,
  approve: APPROVER_ROLES,
  deny: APPROVER_ROLES,
  escalateApproval: APPROVER_ROLES,
  cancelApproval: ACTOR_ROLES,
  // A query, but role-bound: the export holds payloads.
  auditExport: PAYLOAD_ROLES,
} satisfies Record<string, Role[]>;

export const QUERY_OPERATIONS = [
  'run', 'runs', 'runEvents', 'pendingApprovals', 'approval', 'budget', 'goldenSignals', 'tools', 'workers', 'profiles', 'auditPublicKey', 'auditVerification', 'me',
  'subscription:runEvents', 'subscription:runProgress', 'subscription:approvalsChanged',
];

/** The operations a principal may call, for `me`. */
export function operationsOf(p: { role: string; isAdmin: boolean }): string[] {
  const mutations = Object.entries(OPERATION_ROLES)
    .filter(([, roles]) => p.isAdmin || (roles as string[]).includes(p.role))
    .map(([name]) => name);
  return [...QUERY_OPERATIONS, ...mutations];
}
