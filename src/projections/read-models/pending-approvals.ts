import type { Principal, ReviewLevel, RiskLevel } from '../../domain/events/common.js';
import type { RunEventData } from '../../domain/events/index.js';
import { ValidationError } from '../../domain/errors.js';
import { tallyVote, type VoteTally } from '../../domain/approvals/votes.js';
import { gateStatusOf, type RunStatus } from '../../domain/run/state.js';
import { Collection } from '../documents.js';
import { isoAt, type Projection } from '../projection.js';

/** An open approval request, as an approver's console lists it. */
export interface PendingApproval {
  approvalId: string;
  runId: string;
  stepId: string;
  tool?: string;
  risk: RunEventData<'ApprovalRequested'>['risk'];
  confidence: RunEventData<'ApprovalRequested'>['confidence'];
  reviewLevel: ReviewLevel;
  requiredApprovals: number;
  receivedApprovals: number;
  approvers: string[];
  eligibleRoles: string[];
  escalations: Array<{ by: Principal; toRoles: string[]; at: string; reason?: string }>;
  requester: Principal;
  justificationRequired: boolean;
  requestedAt: string;
  expiresAt: string;
  priority: 'normal' | 'urgent';
  input: Record<string, unknown>;
  /** Votes by the hash of the input each approved (the domain's tally). */
  votes?: VoteTally;
}

/**
 * The tools of a live run's steps, to name the tool of a request; the ids of its listed requests;
 * and, while the run is FAILED, the requests it left undecided (`parked`): a resume leaves those
 * gates untouched, so they read OPEN again (`gateStatusOf`) and return to the list.
 */
interface RunPlan {
  tools: Record<string, string>;
  open: string[];
  status?: RunStatus;
  parked?: PendingApproval[];
}

export type PendingApprovalsState = {
  readonly approvals: Collection<PendingApproval>;
  readonly plans: Collection<RunPlan>;
};

/** Open approval requests; a request leaves when it is decided, expires, is cancelled or its run ends. */
export const pendingApprovalsProjection: Projection<PendingApprovalsState> = {
  name: 'pending-approvals',
  // 4: a failed run's undecided requests are parked, and listed again when the run is resumed.
  version: 4,
  eventTypes: [
    'PlanCreated', 'ApprovalRequested', 'ApprovalGranted', 'ApprovalDenied', 'ApprovalEscalated', 'ApprovalExpired',
    'ApprovalCancelled', 'ApprovalAutoApproved', 'RunCompleted', 'RunFailed', 'RunCancelled', 'RunResumed',
  ],
  // Open requests stay in memory (bounded by open work: each leaves when decided, expired, cancelled
  // or its run ends, and requesters have a cap on pending requests); plans are paged out, since a
  // FAILED run keeps its plan for a resume.
  initialState: () => ({ approvals: new Collection<PendingApproval>({ resident: true }), plans: new Collection<RunPlan>({ perRun: true }) }),
  evolve(state, event) {
    const runId = event.metadata.correlationId;
    switch (event.type) {
      case 'PlanCreated':
        state.plans.set(runId, { tools: Object.fromEntries(event.data.steps.map((s) => [s.id, s.tool])), open: [] });
        return state;
      case 'ApprovalRequested': {
        const d = event.data;
        const plan = state.plans.get(runId);
        state.approvals.set(d.approvalId, {
          approvalId: d.approvalId,
          runId,
          stepId: d.stepId,
          // The event names the tool; events written before it did are looked up in the plan.
          tool: d.tool ?? plan?.tools[d.stepId],
          risk: d.risk,
          confidence: d.confidence,
          reviewLevel: d.reviewLevel,
          requiredApprovals: d.requiredApprovals,
          receivedApprovals: 0,
          approvers: [],
          eligibleRoles: [...d.eligibleRoles],
          escalations: [],
          requester: d.requester,
          justificationRequired: d.justificationRequired,
          requestedAt: isoAt(event),
          expiresAt: d.expiresAt,
          priority: d.priority,
          input: d.input,
        });
        if (plan) {
          plan.open.push(d.approvalId);
          state.plans.touch(runId);
        }
        return state;
      }
      case 'ApprovalGranted': {
        const open = state.approvals.get(event.data.approvalId);
        if (!open) return state;
        return vote(state, runId, open, event.data.approver.id, event.data.editedInput);
      }
      case 'ApprovalEscalated': {
        const open = state.approvals.get(event.data.approvalId);
        if (!open) return state;
        for (const role of event.data.toRoles) if (!open.eligibleRoles.includes(role)) open.eligibleRoles.push(role);
        open.escalations.push({ by: event.data.by, toRoles: event.data.toRoles, at: isoAt(event), reason: event.data.reason });
        state.approvals.touch(open.approvalId);
        return state;
      }
      case 'ApprovalAutoApproved': {
        // An automated approver's approval is one vote (a rule's AUTO approval passes a one-vote gate).
        const open = state.approvals.get(event.data.approvalId);
        return open ? vote(state, runId, open, `approver:${event.data.approver}`, undefined) : state;
      }
      case 'ApprovalDenied':
      case 'ApprovalExpired':
      case 'ApprovalCancelled':
        close(state, runId, event.data.approvalId);
        return state;
      case 'RunCompleted':
      case 'RunFailed':
      case 'RunCancelled': {
        // A finished run's gates can no longer be acted on (cancelling a run leaves no gate events).
        const plan = state.plans.get(runId);
        if (!plan) return state;
        // A failed run may be resumed: keep its plan and its undecided requests, which the
        // domain's gate status reads as CANCELLED while the run is FAILED and OPEN once resumed.
        if (event.type === 'RunFailed') {
          plan.status = 'FAILED';
          plan.parked = [...(plan.parked ?? []), ...plan.open.flatMap((id) => state.approvals.get(id) ?? [])];
          for (const id of plan.open) state.approvals.delete(id);
          plan.open = [];
          state.plans.touch(runId);
        } else {
          for (const id of plan.open) state.approvals.delete(id);
          state.plans.delete(runId);
        }
        return state;
      }
      case 'RunResumed': {
        const plan = state.plans.get(runId);
        if (!plan) return state;
        plan.status = 'RUNNING';
        // The resume leaves an undecided gate as it was: the domain reads it OPEN again.
        if (plan.parked && gateStatusOf({ status: plan.status }, { status: 'OPEN' }) === 'OPEN') {
          for (const a of plan.parked) {
            state.approvals.set(a.approvalId, a);
            plan.open.push(a.approvalId);
          }
          plan.parked = undefined;
        }
        state.plans.touch(runId);
        return state;
      }
      default:
        return state;
    }
  },
};

function vote(state: PendingApprovalsState, runId: string, open: PendingApproval, approver: string, edited: Record<string, unknown> | undefined): PendingApprovalsState {
  const { tally, passed } = tallyVote(open.votes, open.input, edited, open.requiredApprovals);
  open.votes = tally;
  open.receivedApprovals++;
  open.approvers.push(approver);
  if (passed) close(state, runId, open.approvalId);
  else state.approvals.touch(open.approvalId);
  return state;
}

function close(state: PendingApprovalsState, runId: string, approvalId: string): void {
  state.approvals.delete(approvalId);
  const plan = state.plans.get(runId);
  if (plan) {
    plan.open = plan.open.filter((id) => id !== approvalId);
    // A gate decided, expired or cancelled while its run was FAILED does not come back on resume.
    if (plan.parked) plan.parked = plan.parked.filter((a) => a.approvalId !== approvalId);
    state.plans.touch(runId);
  }
}

/** A pending approval with its age at the time of the query. */
export interface PendingApprovalItem extends PendingApproval {
  ageMs: number;
}

export interface PendingApprovalsFilter {
  /** Only what this principal may act on: an eligible role, not its own request, not voted yet. */
  principal?: Principal;
  /** Only requests a holder of this role may decide. */
  role?: string;
  risk?: readonly RiskLevel[];
  requester?: string;
  /** Page size (default 50) and the opaque cursor of the previous page's last item. */
  first?: number;
  after?: string;
  /** The time ages are measured at (ISO instant); the caller's clock. */
  now: string;
}

const PRIORITY_RANK = { urgent: 0, normal: 1 } as const;

/** Queries over pending approvals: filter by role, risk, requester; urgent first, then oldest. */
export const pendingApprovalQueries = {
  get(state: PendingApprovalsState, approvalId: string): PendingApproval | undefined {
    return state.approvals.get(approvalId);
  },
  list(state: PendingApprovalsState, filter: PendingApprovalsFilter): { items: PendingApprovalItem[]; endCursor?: string; hasNextPage: boolean; totalCount: number } {
    const now = Date.parse(filter.now);
    const p = filter.principal;
    const matching = [...state.approvals.values()].filter(
      (a) =>
        (!filter.role || a.eligibleRoles.includes(filter.role)) &&
        (!p || (a.eligibleRoles.includes(p.role) && a.requester.id !== p.id && !a.approvers.includes(p.id))) &&
        (!filter.risk || filter.risk.includes(a.risk.level)) &&
        (!filter.requester || a.requester.id === filter.requester),
    );
    matching.sort(compareItems);
    let start = 0;
    if (filter.after !== undefined) {
      const after = decodeCursor(filter.after);
      start = matching.findIndex((a) => compareKeys(sortKey(a), after) > 0);
      if (start < 0) start = matching.length;
    }
    const first = filter.first ?? 50;
    const page = matching.slice(start, start + first);
    const last = page[page.length - 1];
    return {
      items: page.map((a) => ({ ...a, ageMs: Math.max(0, now - Date.parse(a.requestedAt)) })),
      endCursor: last ? encodeCursor(sortKey(last)) : undefined,
      hasNextPage: start + first < matching.length,
      totalCount: matching.length,
    };
  },
};

type SortKey = [rank: number, requestedAt: string, approvalId: string];

function sortKey(a: PendingApproval): SortKey {
  return [PRIORITY_RANK[a.priority], a.requestedAt, a.approvalId];
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

function compareItems(a: PendingApproval, b: PendingApproval): number {
  return compareKeys(sortKey(a), sortKey(b));
}

function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): SortKey {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(key) && key.length === 3 && typeof key[0] === 'number' && typeof key[1] === 'string' && typeof key[2] === 'string') {
      return key as SortKey;
    }
  } catch {
    // fall through
  }
  throw new ValidationError(`invalid cursor "${cursor}"`);
}
