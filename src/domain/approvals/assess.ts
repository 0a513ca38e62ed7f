import { type ReviewLevel, type RiskLevel, riskRank } from '../events/common.js';
import { type ApprovalPolicyConfig, type InputCondition, RISK_BASE_SCORE, type RiskRule } from './policy-config.js';

/** What a tool says it does, with the environment already read from the input. */
export interface ActionFacts {
  readonly category: string;
  readonly operation: string;
  readonly environment?: string;
  readonly resource?: string;
  /** The call's input, for rules that look at its fields. */
  readonly input?: Record<string, unknown>;
}

/** What the context adds: who asks, in which workspace, with which input. */
export interface RequestContext {
  readonly requesterId: string;
  readonly workspace?: string;
  readonly input: Record<string, unknown>;
}

export interface Assessment {
  readonly risk: { level: RiskLevel; score: number; factors: string[] };
  readonly rule: string;
  readonly confidence: { score: number; adjustments: Array<{ reason: string; delta: number }> };
  readonly reviewLevel: ReviewLevel;
  readonly gated: boolean;
  readonly requiredApprovals: number;
  readonly eligibleRoles: string[];
  readonly justificationRequired: boolean;
  readonly timeoutMs: number;
  readonly onTimeout: 'approve' | 'deny';
  readonly priority: 'normal' | 'urgent';
}

/** The risk of an action by the first matching rule. Pure. */
export function assessRisk(action: ActionFacts, policy: ApprovalPolicyConfig): { level: RiskLevel; score: number; factors: string[]; rule: string } {
  const rule = policy.rules.find((r) => matches(r, action));
  if (!rule) return { level: 'medium', score: RISK_BASE_SCORE.medium, factors: ['no risk rule matched'], rule: '(none)' };
  const factors = [rule.factor ?? `${action.category}/${action.operation}`];
  if (action.environment && !factors[0]?.includes(action.environment)) factors.push(`environment ${action.environment}`);
  return { level: rule.level, score: rule.score ?? RISK_BASE_SCORE[rule.level], factors, rule: rule.name };
}

function matches(rule: RiskRule, action: ActionFacts): boolean {
  const m = rule.match;
  return (
    (m.category === undefined || m.category === action.category) &&
    (m.operation === undefined || m.operation === action.operation) &&
    (m.environment === undefined || m.environment === action.environment) &&
    (m.resource === undefined || m.resource === action.resource) &&
    (m.input === undefined || Object.entries(m.input).every(([path, c]) => holds(c, fieldAt(action.input, path)))) &&
    (m.inputHasAny === undefined || m.inputHasAny.some((path) => fieldAt(action.input, path) !== undefined))
  );
}

/** The value at a dotted path of the input (`target.branch`), or undefined. */
function fieldAt(input: Record<string, unknown> | undefined, path: string): unknown {
  let here: unknown = input;
  for (const key of path.split('.')) {
    if (!here || typeof here !== 'object' || Array.isArray(here) || !Object.hasOwn(here, key)) return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

/** A numeric bound holds only for a number; a pattern only for a string: a missing field matches neither. */
function holds(c: InputCondition, value: unknown): boolean {
  const n = typeof value === 'number' ? value : undefined;
  return (
    (c.present === undefined || c.present === (value !== undefined)) &&
    (c.gt === undefined || (n !== undefined && n > c.gt)) &&
    (c.gte === undefined || (n !== undefined && n >= c.gte)) &&
    (c.lt === undefined || (n !== undefined && n < c.lt)) &&
    (c.lte === undefined || (n !== undefined && n <= c.lte)) &&
    (c.equals === undefined || value === c.equals) &&
    (c.pattern === undefined || (typeof value === 'string' && new RegExp(c.pattern).test(value)))
  );
}

/** Confidence: the level's base, adjusted by who asks, where, and what the input says. Pure. */
export function assessConfidence(level: RiskLevel, context: RequestContext, policy: ApprovalPolicyConfig) {
  const c = policy.confidence;
  const adjustments: Array<{ reason: string; delta: number }> = [];
  if (c.trustedRequesters.includes(context.requesterId)) adjustments.push({ reason: 'trusted requester', delta: c.adjustments.trustedRequester });
  if (context.workspace && c.verifiedWorkspaces.includes(context.workspace)) adjustments.push({ reason: 'verified workspace', delta: c.adjustments.verifiedWorkspace });
  const amount = context.input.amount;
  if (typeof amount === 'number' && amount > c.adjustments.amountOver.threshold) {
    adjustments.push({ reason: `amount over ${c.adjustments.amountOver.threshold}`, delta: c.adjustments.amountOver.delta });
  }
  const items = Object.values(context.input).find((v) => Array.isArray(v) && v.length >= c.adjustments.bulk.minItems);
  if (context.input.bulk === true || items) adjustments.push({ reason: 'bulk operation', delta: c.adjustments.bulk.delta });
  const raw = c.base[level] + adjustments.reduce((n, a) => n + a.delta, 0);
  return { score: Math.max(0, Math.min(100, raw)), adjustments };
}

/**
 * The whole gate decision for one step: risk, confidence, review level (AUTO ≥ autoAt when the
 * level allows auto-approval, never for critical; QUICK ≥ quickAt: one approver; FULL: the level's
 * quorum), eligible roles, timeout and priority. Pure: the engine turns it into events.
 */
export function assess(action: ActionFacts, context: RequestContext, policy: ApprovalPolicyConfig, declared?: { minLevel?: RiskLevel }): Assessment {
  const risk = assessRisk(action, policy);
  let level = risk.level;
  if (declared?.minLevel && riskRank(declared.minLevel) > riskRank(level)) {
    level = declared.minLevel;
    risk.factors.push(`tool declares at least ${declared.minLevel}`);
  }
  const levelPolicy = policy.levels[level];
  const confidence = assessConfidence(level, context, policy);
  const c = policy.confidence;
  const reviewLevel: ReviewLevel =
    confidence.score >= c.autoAt && levelPolicy.autoApprove && level !== 'critical' ? 'AUTO' : confidence.score >= c.quickAt ? 'QUICK' : 'FULL';
  return {
    risk: { level, score: level === risk.level ? risk.score : RISK_BASE_SCORE[level], factors: risk.factors },
    rule: risk.rule,
    confidence,
    reviewLevel,
    gated: riskRank(level) >= riskRank(policy.gateFrom) || declared?.minLevel !== undefined,
    requiredApprovals: reviewLevel === 'FULL' ? levelPolicy.approvals : 1,
    eligibleRoles: [...levelPolicy.eligibleRoles],
    justificationRequired: levelPolicy.justification,
    timeoutMs: Math.round(levelPolicy.timeoutMinutes * 60_000),
    onTimeout: levelPolicy.onTimeout,
    priority: level === 'high' || level === 'critical' || confidence.score < c.urgentBelow ? 'urgent' : 'normal',
  };
}
