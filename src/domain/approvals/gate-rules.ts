import { riskRank } from '../events/common.js';
import type { RunEventData } from '../events/index.js';
import { type GateRequirements, stricterRequirements } from './edits.js';

type Request = RunEventData<'ApprovalRequested'>;

/**
 * Why an approver's edit cannot be approved at this gate, if it cannot: an edit is a new action,
 * approved here only if it asks nothing stricter than the gate was opened with (risk, review
 * level, quorum, roles, justification); otherwise it is a request the requester never made and
 * nobody qualified has seen. `edited` is its assessment, made like a new request's. Pure.
 */
export function editRefusal(request: Request, edited: GateRequirements | undefined): string | undefined {
  if (!edited) return 'an edited input must be assessed before it is approved';
  const requested = { riskLevel: request.risk.level, reviewLevel: request.reviewLevel, requiredApprovals: request.requiredApprovals, eligibleRoles: request.eligibleRoles, justificationRequired: request.justificationRequired };
  const stricter = stricterRequirements(requested, edited);
  if (stricter.length === 0) return undefined;
  return `the edited input needs a stricter gate than this one was opened with: ${stricter.join('; ')}. Deny this request; the requester may ask for the edited action as a new run`;
}

/**
 * Why an automated approver may not approve this gate, if it may not: above its ceiling (critical
 * never, whatever it is configured with), for a requester it acts for or whose identity it bears,
 * or without the reason a justification-requiring gate needs. Pure.
 */
export function automatedApprovalRefusal(request: Request, by: { approver: string; reason: string; ceiling: Request['risk']['level']; actsFor?: readonly string[] }): string | undefined {
  const level = request.risk.level;
  if (level === 'critical') return 'no automated approver may approve critical risk';
  if (riskRank(level) > riskRank(by.ceiling)) return `it may approve up to ${by.ceiling} risk and this is ${level}`;
  const requester = request.requester.id;
  if (requester === by.approver || requester === `approver:${by.approver}` || by.actsFor?.includes(requester)) {
    return `it acts for the requester ${requester}, who may not approve their own request`;
  }
  if (request.justificationRequired && !by.reason.trim()) return 'this gate needs a justification and it gave no reason';
  return undefined;
}
