import type { RunEventData } from '../events/index.js';

/** What an automated approver is shown: the request as recorded, and where it belongs. */
export interface AutomatedApprovalRequest {
  readonly runId: string;
  readonly request: RunEventData<'ApprovalRequested'>;
}

export interface AutomatedDecision {
  readonly decision: 'approve' | 'deny' | 'handover';
  readonly reason: string;
}

/** Decides before humans do, or hands over to them. Never throws for a decision it cannot make: it hands over. */
export interface Approver {
  readonly name: string;
  decide(request: AutomatedApprovalRequest, signal: AbortSignal): Promise<AutomatedDecision>;
}
