import { type ReviewLevel, type RiskLevel, riskRank } from '../events/common.js';

/** What a gate demands of its approvers: the parts of a request an edit must not make stricter. */
export interface GateRequirements {
  readonly riskLevel: RiskLevel;
  readonly reviewLevel: ReviewLevel;
  readonly requiredApprovals: number;
  readonly eligibleRoles: readonly string[];
  readonly justificationRequired: boolean;
  /** The risk rule that classified it (for the message). */
  readonly rule?: string;
}

const REVIEW: readonly ReviewLevel[] = ['AUTO', 'QUICK', 'FULL'];

/**
 * How `edited` (the assessment of an approver's edited input, made like a new request's) is
 * stricter than `requested` (the gate as it was opened): one line per requirement that grows.
 * Empty: the edit asks nothing the gate did not already ask. Pure.
 */
export function stricterRequirements(requested: GateRequirements, edited: GateRequirements): string[] {
  const out: string[] = [];
  if (riskRank(edited.riskLevel) > riskRank(requested.riskLevel)) {
    out.push(`risk ${edited.riskLevel}${edited.rule ? ` (rule ${edited.rule})` : ''} instead of ${requested.riskLevel}`);
  }
  if (REVIEW.indexOf(edited.reviewLevel) > REVIEW.indexOf(requested.reviewLevel)) out.push(`review ${edited.reviewLevel} instead of ${requested.reviewLevel}`);
  if (edited.requiredApprovals > requested.requiredApprovals) out.push(`${edited.requiredApprovals} approvals instead of ${requested.requiredApprovals}`);
  const dropped = requested.eligibleRoles.filter((r) => !edited.eligibleRoles.includes(r));
  if (dropped.length > 0) out.push(`only ${edited.eligibleRoles.join(', ')} may approve (not ${dropped.join(', ')})`);
  if (edited.justificationRequired && !requested.justificationRequired) out.push('a justification is required');
  return out;
}
