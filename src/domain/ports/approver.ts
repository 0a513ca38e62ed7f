import type { RiskLevel } from '../events/common.js';
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
  /** The highest risk it may approve; above, its approval is recorded as a hand-over. Default medium. */
  readonly maxRisk?: RiskLevel;
  /** Principals it acts for: it may not approve their own requests. */
  readonly actsFor?: readonly string[];
  /** The longest it takes to answer (a webhook's timeout); part of the lease an instance holds while asking. */
  readonly timeoutMs?: number;
  decide(request: AutomatedApprovalRequest, signal: AbortSignal): Promise<AutomatedDecision>;
}
