/**
 * The approvals inbox's GraphQL documents (checked against schema.graphql) and hand-written types
 * of what they answer. Each document is whole (no interpolation), so it can be checked as written;
 * the card's fields are the same in PENDING_APPROVALS and APPROVAL.
 */

/**
 * Whether to ask for tool inputs: the server answers them only to the roles that may act (those
 * that may start runs) and admins, and refuses the whole card otherwise (viewers).
 */
export function seesPayloads(can: (operation: string) => boolean): boolean {
  return can('startRun');
}

export const PENDING_APPROVALS = /* GraphQL */ `
  query InboxApprovals($first: Int, $withInput: Boolean! = true) {
    pendingApprovals(first: $first) {
      totalCount
      edges {
        node {
          approvalId runId stepId tool status priority reviewLevel
          risk { level score factors }
          confidence { score adjustments { reason delta } }
          requiredApprovals receivedApprovals approvers eligibleRoles justificationRequired
          requester { id role }
          requestedAt expiresAt input @include(if: $withInput)
          escalations { at by { id role } toRoles reason }
        }
      }
    }
  }
`;

/** How many requests are open for anyone (scope ALL: the server answers it to admins and viewers only). */
export const OPEN_FOR_ALL = /* GraphQL */ `
  query OpenForAll {
    pendingApprovals(scope: ALL, first: 1) { totalCount }
  }
`;

/** What OPEN_FOR_ALL answers. */
export interface OpenForAllData {
  readonly pendingApprovals: { readonly totalCount: number | null };
}

export const APPROVAL = /* GraphQL */ `
  query ApprovalCard($approvalId: ID!, $withInput: Boolean! = true) {
    approval(approvalId: $approvalId) {
      approvalId runId stepId tool status priority reviewLevel
      risk { level score factors }
      confidence { score adjustments { reason delta } }
      requiredApprovals receivedApprovals approvers eligibleRoles justificationRequired
      requester { id role }
      requestedAt expiresAt input @include(if: $withInput)
      escalations { at by { id role } toRoles reason }
    }
  }
`;

export const APPROVALS_CHANGED = /* GraphQL */ `
  subscription InboxChanges {
    approvalsChanged { kind eventType approvalId runId position }
  }
`;

export const RUN_GOAL = /* GraphQL */ `
  query ApprovalRunGoal($runId: ID!) {
    run(runId: $runId) { runId goal status }
  }
`;

export const TOOL_SCHEMAS = /* GraphQL */ `
  query ApprovalToolSchemas {
    tools(first: 100) { edges { node { name inputSchema } } }
  }
`;

export const APPROVE = /* GraphQL */ `
  mutation ApproveApproval($input: ApproveInput!) { approve(input: $input) { approval { approvalId status receivedApprovals requiredApprovals approvers } run { runId status } } }
`;

export const DENY = /* GraphQL */ `
  mutation DenyApproval($input: DenyInput!) { deny(input: $input) { approval { approvalId status receivedApprovals requiredApprovals approvers } run { runId status } } }
`;

export const ESCALATE = /* GraphQL */ `
  mutation EscalateApproval($input: EscalateInput!) { escalateApproval(input: $input) { approval { approvalId status receivedApprovals requiredApprovals approvers } run { runId status } } }
`;

export const CANCEL = /* GraphQL */ `
  mutation CancelApproval($input: ApprovalReasonInput!) { cancelApproval(input: $input) { approval { approvalId status receivedApprovals requiredApprovals approvers } run { runId status } } }
`;

/** GateStatus. */
export type GateStatus = 'OPEN' | 'GRANTED' | 'DENIED' | 'EXPIRED_DENIED' | 'CANCELLED';
/** RiskLevel. */
export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

/** An approval as a card shows it (CARD_FIELDS). */
export interface ApprovalCardData {
  approvalId: string;
  runId: string;
  stepId: string;
  tool: string | null;
  status: GateStatus;
  priority: string;
  reviewLevel: 'AUTO' | 'QUICK' | 'FULL';
  risk: { level: RiskLevel; score: number; factors: string[] };
  confidence: { score: number; adjustments: Array<{ reason: string; delta: number }> };
  requiredApprovals: number;
  receivedApprovals: number;
  approvers: string[];
  eligibleRoles: string[];
  justificationRequired: boolean;
  requester: { id: string; role: string };
  requestedAt: string | null;
  expiresAt: string;
  /** Absent for viewers (the server keeps payloads from them). */
  input?: Record<string, unknown>;
  escalations: Array<{ at: string; by: { id: string; role: string }; toRoles: string[]; reason: string | null }>;
}

/** PENDING_APPROVALS. */
export interface PendingApprovalsData {
  pendingApprovals: { totalCount: number | null; edges: Array<{ node: ApprovalCardData }> };
}
/** APPROVAL. */
export interface ApprovalData {
  approval: ApprovalCardData;
}
/** APPROVALS_CHANGED. */
export interface ApprovalsChangedData {
  approvalsChanged: { kind: 'REQUESTED' | 'UPDATED' | 'CLOSED'; eventType: string; approvalId: string; runId: string; position: string };
}
/** RUN_GOAL. */
export interface RunGoalData {
  run: { runId: string; goal: string; status: string };
}
/** TOOL_SCHEMAS. */
export interface ToolSchemasData {
  tools: { edges: Array<{ node: { name: string; inputSchema: unknown } }> };
}
/** What every decision mutation answers (under its own field name). */
export interface DecisionPayload {
  approval: { approvalId: string; status: GateStatus; receivedApprovals: number; requiredApprovals: number; approvers: string[] };
  run: { runId: string; status: string };
}
