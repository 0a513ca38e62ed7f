import { NotFoundError } from '../../domain/errors.js';
import type { RiskLevel } from '../../domain/events/common.js';
import { gateStatusOf, type RunState } from '../../domain/run/state.js';
import { pendingApprovalQueries, pendingApprovalsProjection } from '../../projections/index.js';
import type { PendingApproval } from '../../projections/read-models/pending-approvals.js';
import { runIdOfApproval } from '../../orchestrator/api.js';
import type { AuthPrincipal, GatehouseServices } from '../context.js';
import type { Approval } from '../types/approval.js';
import type { Page } from '../types/connection.js';

/**
 * Who may see an approval: admins and viewers (observers) see all; others see what their role
 * may decide and their own requests.
 */
export function maySeeApproval(p: AuthPrincipal, a: { requester: { id: string }; eligibleRoles: readonly string[] }): boolean {
  return p.isAdmin || p.role === 'viewer' || a.requester.id === p.id || a.eligibleRoles.includes(p.role);
}

export function fromPending(a: PendingApproval, now: string): Approval {
  return {
    ...a,
    status: 'OPEN' as Approval['status'],
    risk: a.risk as Approval['risk'],
    reviewLevel: a.reviewLevel as Approval['reviewLevel'],
    ageMs: Math.max(0, Date.parse(now) - Date.parse(a.requestedAt)),
  };
}

/** An approval as the run's own state has it (also once it is closed). */
export function fromGate(state: RunState, approvalId: string, pending?: PendingApproval): Approval {
  const step = state.steps.find((s) => s.gate?.approvalId === approvalId);
  const gate = step?.gate;
  if (!step || !gate) throw new NotFoundError(`no approval ${approvalId}`, { approvalId });
  const r = gate.request;
  return {
    approvalId,
    runId: state.runId,
    stepId: step.id,
    tool: step.tool,
    status: gateStatusOf(state, gate) as Approval['status'],
    risk: r.risk as Approval['risk'],
    confidence: r.confidence,
    reviewLevel: r.reviewLevel as Approval['reviewLevel'],
    requiredApprovals: r.requiredApprovals,
    receivedApprovals: gate.approvers.length,
    approvers: [...gate.approvers],
    eligibleRoles: [...gate.eligibleRoles],
    escalations: pending?.escalations ?? [],
    requester: r.requester,
    justificationRequired: r.justificationRequired,
    requestedAt: pending?.requestedAt,
    expiresAt: r.expiresAt,
    priority: r.priority,
    input: r.input,
  };
}

/** One approval: the open request from the read model, else the gate from the run's log. */
export async function readApproval(services: GatehouseServices, approvalId: string): Promise<Approval> {
  const pending = pendingApprovalQueries.get(services.projections.read(pendingApprovalsProjection), approvalId);
  if (pending) return fromPending(pending, services.now());
  const runId = runIdOfApproval(approvalId);
  let state: RunState;
  try {
    state = await services.orchestrator.getRun(runId);
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError(`no approval ${approvalId}`, { approvalId });
    throw error;
  }
  return fromGate(state, approvalId);
}

export interface ApprovalsQuery {
  scope: 'ACTIONABLE' | 'MINE' | 'ALL';
  role?: string;
  risk?: RiskLevel[];
  requester?: string;
  first: number;
  after?: string;
}

/** Open approvals for a principal: what it may decide, its own, or all; urgent first, then oldest. */
export function readPendingApprovals(services: GatehouseServices, p: AuthPrincipal, q: ApprovalsQuery): Page<Approval> {
  const now = services.now();
  const result = pendingApprovalQueries.list(services.projections.read(pendingApprovalsProjection), {
    principal: q.scope === 'ACTIONABLE' ? { id: p.id, role: p.role } : undefined,
    requester: q.scope === 'MINE' ? p.id : q.requester,
    role: q.role,
    risk: q.risk,
    first: q.first,
    after: q.after,
    now,
  });
  // Edges of one page share the page's cursor scheme; an item's own cursor is the page's end for the last.
  const edges = result.items.map((item, i, all) => ({
    cursor: i === all.length - 1 && result.endCursor ? result.endCursor : itemCursor(item),
    node: fromPending(item, now),
  }));
  return { edges, pageInfo: { endCursor: result.endCursor, hasNextPage: result.hasNextPage }, totalCount: result.totalCount };
}

/** The read model's cursor format for one item (priority rank, requestedAt, id). */
function itemCursor(a: PendingApproval): string {
  return Buffer.from(JSON.stringify([a.priority === 'urgent' ? 0 : 1, a.requestedAt, a.approvalId])).toString('base64url');
}
