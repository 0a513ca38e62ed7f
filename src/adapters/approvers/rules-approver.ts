import type { ApproverRule } from '../../domain/approvals/automated-approvers.js';
import { type RiskLevel, riskRank } from '../../domain/events/common.js';
import { matchesPattern } from '../../domain/routing/route.js';
import type { Approver, AutomatedDecision } from '../../domain/ports/approver.js';

/** Rules from config, first match wins; no match hands over to humans. */
export function createRulesApprover(name: string, rules: readonly ApproverRule[], limits: { maxRisk?: RiskLevel; actsFor?: readonly string[] } = {}): Approver {
  return {
    name,
    maxRisk: limits.maxRisk,
    actsFor: limits.actsFor,
    decide: async ({ request }): Promise<AutomatedDecision> => {
      for (const rule of rules) {
        const w = rule.when;
        const amount = request.input.amount;
        const holds =
          (w.tool === undefined || (request.tool !== undefined && matchesPattern(w.tool, request.tool))) &&
          (w.maxRisk === undefined || riskRank(request.risk.level) <= riskRank(w.maxRisk)) &&
          (w.minConfidence === undefined || request.confidence.score >= w.minConfidence) &&
          (w.maxAmount === undefined || (typeof amount === 'number' && amount <= w.maxAmount)) &&
          (w.requester === undefined || w.requester.includes(request.requester.id));
        if (holds) return { decision: rule.decision, reason: rule.reason ?? `rule ${rule.name}` };
      }
      return { decision: 'handover', reason: 'no rule matched' };
    },
  };
}
