import { describe, expect, it } from 'vitest';
import { assess, assessConfidence, assessRisk } from '../../src/domain/approvals/assess.js';
import { ApprovalPolicyConfig, defaultApprovalPolicy as policy } from '../../src/domain/approvals/policy-config.js';

const ctx = (input: Record<string, unknown> = {}, requesterId = 'alice', workspace?: string) => ({ requesterId, input, workspace });

describe('risk rules (defaults from DESIGN.md)', () => {
  it.each([
    [{ category: 'files', operation: 'read' }, 'low'],
    [{ category: 'files', operation: 'write' }, 'medium'],
    [{ category: 'files', operation: 'delete' }, 'high'],
    [{ category: 'deploy', operation: 'release', environment: 'dev' }, 'low'],
    [{ category: 'deploy', operation: 'release', environment: 'staging' }, 'medium'],
    [{ category: 'deploy', operation: 'release', environment: 'production' }, 'high'],
    [{ category: 'deploy', operation: 'release' }, 'high'],
    [{ category: 'db', operation: 'select' }, 'low'],
    [{ category: 'db', operation: 'insert' }, 'medium'],
    [{ category: 'db', operation: 'update' }, 'high'],
    [{ category: 'db', operation: 'delete' }, 'critical'],
    [{ category: 'secrets', operation: 'read' }, 'critical'],
    [{ category: 'infrastructure', operation: 'create' }, 'medium'],
    [{ category: 'infrastructure', operation: 'modify' }, 'high'],
    [{ category: 'infrastructure', operation: 'delete' }, 'critical'],
    [{ category: 'payments', operation: 'transfer' }, 'medium'],
  ] as const)('%j is %s', (action, level) => {
    const r = assessRisk(action, policy);
    expect(r.level).toBe(level);
    expect(r.score).toBe({ low: 20, medium: 50, high: 75, critical: 95 }[level]);
    expect(r.factors.length).toBeGreaterThan(0);
  });
  it('names the rule and the environment among the factors', () => {
    expect(assessRisk({ category: 'deploy', operation: 'release', environment: 'production' }, policy)).toMatchObject({ rule: 'deploy-production', factors: ['deploys to production'] });
    expect(assessRisk({ category: 'files', operation: 'write', environment: 'eu-1' }, policy).factors).toEqual(['writes data', 'environment eu-1']);
  });
});

describe('confidence', () => {
  const trusted = ApprovalPolicyConfig.parse({ ...policy, confidence: { ...policy.confidence, trustedRequesters: ['bot'], verifiedWorkspaces: ['acme'] } });
  it('starts at the level base and lists every adjustment', () => {
    expect(assessConfidence('medium', ctx(), trusted)).toEqual({ score: 70, adjustments: [] });
    expect(assessConfidence('medium', ctx({}, 'bot'), trusted)).toEqual({ score: 80, adjustments: [{ reason: 'trusted requester', delta: 10 }] });
    expect(assessConfidence('medium', ctx({}, 'x', 'acme'), trusted)).toEqual({ score: 75, adjustments: [{ reason: 'verified workspace', delta: 5 }] });
    expect(assessConfidence('medium', ctx({ amount: 1001 }), trusted)).toEqual({ score: 55, adjustments: [{ reason: 'amount over 1000', delta: -15 }] });
    expect(assessConfidence('medium', ctx({ amount: 1000 }), trusted).score).toBe(70);
    expect(assessConfidence('medium', ctx({ bulk: true }), trusted)).toEqual({ score: 60, adjustments: [{ reason: 'bulk operation', delta: -10 }] });
    expect(assessConfidence('medium', ctx({ ids: Array.from({ length: 10 }, (_, i) => i) }), trusted).score).toBe(60);
    expect(assessConfidence('low', ctx({ amount: 5000, bulk: true }, 'bot', 'acme'), trusted).score).toBe(80);
    expect(assessConfidence('critical', ctx({ amount: 99999, bulk: true }), trusted).score).toBe(15);
  });
});

describe('review level, requirements and priority', () => {
  it('low risk with high confidence is AUTO; a low-risk amount over 1000 is QUICK', () => {
    expect(assess({ category: 'files', operation: 'read' }, ctx(), policy)).toMatchObject({ reviewLevel: 'AUTO', gated: true, priority: 'normal' });
    expect(assess({ category: 'files', operation: 'read' }, ctx({ amount: 2000 }), policy)).toMatchObject({ reviewLevel: 'QUICK', requiredApprovals: 1 });
  });
  it('medium is QUICK (one approver) from the level roles, 60 minutes, no justification', () => {
    expect(assess({ category: 'files', operation: 'write' }, ctx(), policy)).toMatchObject({
      reviewLevel: 'QUICK', requiredApprovals: 1, eligibleRoles: ['tech_lead', 'devops_engineer'], timeoutMs: 3_600_000, justificationRequired: false, onTimeout: 'deny',
    });
  });
  it('high is FULL below 60, urgent, with a justification', () => {
    expect(assess({ category: 'db', operation: 'update' }, ctx(), policy)).toMatchObject({ reviewLevel: 'FULL', requiredApprovals: 1, justificationRequired: true, priority: 'urgent', timeoutMs: 5_400_000 });
  });
  it('critical needs two devops engineers and is never AUTO, even with full confidence', () => {
    const generous = ApprovalPolicyConfig.parse({ ...policy, confidence: { ...policy.confidence, base: { ...policy.confidence.base, critical: 100 } }, levels: { ...policy.levels, critical: { ...policy.levels.critical, autoApprove: true } } });
    expect(assess({ category: 'db', operation: 'delete' }, ctx(), policy)).toMatchObject({ reviewLevel: 'FULL', requiredApprovals: 2, eligibleRoles: ['devops_engineer'], timeoutMs: 7_200_000 });
    expect(assess({ category: 'db', operation: 'delete' }, ctx(), generous).reviewLevel).toBe('QUICK');
  });
  it('is urgent below confidence 30 whatever the level; gateFrom decides which levels get a gate', () => {
    const lowConfidence = ApprovalPolicyConfig.parse({ ...policy, confidence: { ...policy.confidence, base: { ...policy.confidence.base, medium: 25 } } });
    expect(assess({ category: 'files', operation: 'write' }, ctx(), lowConfidence).priority).toBe('urgent');
    const fromMedium = ApprovalPolicyConfig.parse({ ...policy, gateFrom: 'medium' });
    expect(assess({ category: 'files', operation: 'read' }, ctx(), fromMedium).gated).toBe(false);
    expect(assess({ category: 'files', operation: 'write' }, ctx(), fromMedium).gated).toBe(true);
  });
});
