import { z } from 'zod';
import { RiskLevel } from '../events/common.js';

const Minutes = z.number().positive();

/** What each risk level requires (DESIGN.md "Approval gates" defaults). */
export const LevelPolicy = z.strictObject({
  autoApprove: z.boolean(),
  timeoutMinutes: Minutes,
  approvals: z.number().int().positive(),
  eligibleRoles: z.array(z.string().min(1)).min(1),
  justification: z.boolean(),
  onTimeout: z.enum(['approve', 'deny']).default('deny'),
});
export type LevelPolicy = z.infer<typeof LevelPolicy>;

/** A condition on one input field (a dotted path): every condition given must hold. */
export const InputCondition = z
  .strictObject({
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** A regular expression the string value must match, e.g. `^(main|master)$`. */
    pattern: z
      .string()
      .optional()
      .refine((p) => p === undefined || compiles(p), 'is not a valid regular expression'),
    /** true: the field must be there (any value); false: it must be absent. */
    present: z.boolean().optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), 'give at least one condition');
export type InputCondition = z.infer<typeof InputCondition>;

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** Maps a tool's action to a risk level; the first rule that matches wins. */
export const RiskRule = z.strictObject({
  name: z.string().min(1),
  match: z.strictObject({
    category: z.string().optional(),
    operation: z.string().optional(),
    environment: z.string().optional(),
    resource: z.string().optional(),
    /** Conditions on the call's input, by field path (`amount`, `target.branch`). */
    input: z.record(z.string(), InputCondition).optional(),
    /** Matches when the input has at least one of these fields (e.g. `force`, `skipChecks`). */
    inputHasAny: z.array(z.string().min(1)).min(1).optional(),
  }),
  level: RiskLevel,
  /** 0–100; defaults to the level's base score. */
  score: z.number().min(0).max(100).optional(),
  factor: z.string().optional(),
});
export type RiskRule = z.infer<typeof RiskRule>;

export const RolePolicy = z.strictObject({
  /** Roles this one may escalate a request to. */
  escalateTo: z.array(z.string()).default([]),
  /** Most approval requests a requester in this role may have open at once. */
  maxPending: z.number().int().positive(),
});
export type RolePolicy = z.infer<typeof RolePolicy>;

export const ConfidencePolicy = z.strictObject({
  /** A tool's base confidence by risk level, before adjustments. */
  base: z.strictObject({ low: z.number(), medium: z.number(), high: z.number(), critical: z.number() }),
  trustedRequesters: z.array(z.string()).default([]),
  verifiedWorkspaces: z.array(z.string()).default([]),
  adjustments: z.strictObject({
    trustedRequester: z.number(),
    verifiedWorkspace: z.number(),
    amountOver: z.strictObject({ threshold: z.number(), delta: z.number() }),
    bulk: z.strictObject({ minItems: z.number().int().positive(), delta: z.number() }),
  }),
  autoAt: z.number().min(0).max(100),
  quickAt: z.number().min(0).max(100),
  urgentBelow: z.number().min(0).max(100),
});
export type ConfidencePolicy = z.infer<typeof ConfidencePolicy>;

/** The whole approval policy; every field has DESIGN.md's default. */
export const ApprovalPolicyConfig = z.strictObject({
  /** Risk levels from which a step gets a gate at all (default: every level). */
  gateFrom: RiskLevel.default('low'),
  levels: z.strictObject({ low: LevelPolicy, medium: LevelPolicy, high: LevelPolicy, critical: LevelPolicy }),
  rules: z.array(RiskRule),
  roles: z.record(z.string(), RolePolicy),
  /** The pending-request limit of a role that `roles` does not name: every role has one. */
  defaultMaxPending: z.number().int().positive().default(5),
  confidence: ConfidencePolicy,
});
export type ApprovalPolicyConfig = z.infer<typeof ApprovalPolicyConfig>;

/** How many approval requests a requester in `role` may have open at once under `policy`. */
export function maxPendingOf(policy: ApprovalPolicyConfig, role: string): number {
  return (Object.hasOwn(policy.roles, role) ? policy.roles[role]?.maxPending : undefined) ?? policy.defaultMaxPending;
}

export const RISK_BASE_SCORE = { low: 20, medium: 50, high: 75, critical: 95 } as const;

const leads = ['tech_lead', 'devops_engineer'];

/** DESIGN.md's tables, as data. */
export const defaultApprovalPolicy: ApprovalPolicyConfig = ApprovalPolicyConfig.parse({
  gateFrom: 'low',
  levels: {
    low: { autoApprove: true, timeoutMinutes: 30, approvals: 1, eligibleRoles: ['developer', ...leads], justification: false },
    medium: { autoApprove: false, timeoutMinutes: 60, approvals: 1, eligibleRoles: leads, justification: false },
    high: { autoApprove: false, timeoutMinutes: 90, approvals: 1, eligibleRoles: leads, justification: true },
    critical: { autoApprove: false, timeoutMinutes: 120, approvals: 2, eligibleRoles: ['devops_engineer'], justification: true },
  },
  rules: [
    { name: 'secrets', match: { category: 'secrets' }, level: 'critical', factor: 'touches secrets' },
    { name: 'db-drop', match: { category: 'db', operation: 'drop' }, level: 'critical', factor: 'drops database objects' },
    { name: 'db-truncate', match: { category: 'db', operation: 'truncate' }, level: 'critical', factor: 'empties database tables' },
    { name: 'db-delete', match: { category: 'db', operation: 'delete' }, level: 'critical', factor: 'deletes database rows' },
    { name: 'db-alter', match: { category: 'db', operation: 'alter' }, level: 'high', factor: 'changes database schema' },
    { name: 'db-update', match: { category: 'db', operation: 'update' }, level: 'high', factor: 'updates database rows' },
    { name: 'db-insert', match: { category: 'db', operation: 'insert' }, level: 'medium', factor: 'inserts database rows' },
    { name: 'db-select', match: { category: 'db', operation: 'select' }, level: 'low', factor: 'reads database rows' },
    { name: 'db-other', match: { category: 'db' }, level: 'high', factor: 'a database statement no rule classifies' },
    { name: 'deploy-production', match: { category: 'deploy', environment: 'production' }, level: 'high', factor: 'deploys to production' },
    { name: 'deploy-staging', match: { category: 'deploy', environment: 'staging' }, level: 'medium', factor: 'deploys to staging' },
    { name: 'deploy-dev', match: { category: 'deploy', environment: 'dev' }, level: 'low', factor: 'deploys to dev' },
    { name: 'deploy-unknown', match: { category: 'deploy' }, level: 'high', factor: 'deploys to an unnamed environment' },
    { name: 'infrastructure-delete', match: { category: 'infrastructure', operation: 'delete' }, level: 'critical', factor: 'deletes infrastructure' },
    { name: 'infrastructure-modify', match: { category: 'infrastructure', operation: 'modify' }, level: 'high', factor: 'modifies infrastructure' },
    { name: 'infrastructure-create', match: { category: 'infrastructure', operation: 'create' }, level: 'medium', factor: 'creates infrastructure' },
    { name: 'delete', match: { operation: 'delete' }, level: 'high', factor: 'deletes data' },
    { name: 'write', match: { operation: 'write' }, level: 'medium', factor: 'writes data' },
    { name: 'read', match: { operation: 'read' }, level: 'low', factor: 'reads data' },
    // Anything no rule names is treated as a write: unknown is not safe.
    { name: 'unclassified', match: {}, level: 'medium', factor: 'action not classified by any rule' },
  ],
  roles: {
    developer: { maxPending: 5 },
    tech_lead: { escalateTo: ['devops_engineer'], maxPending: 10 },
    devops_engineer: { maxPending: 20 },
    admin: { escalateTo: ['devops_engineer'], maxPending: 20 },
    requester: { maxPending: 10 },
  },
  defaultMaxPending: 5,
  confidence: {
    base: { low: 90, medium: 70, high: 55, critical: 40 },
    trustedRequesters: [],
    verifiedWorkspaces: [],
    adjustments: { trustedRequester: 10, verifiedWorkspace: 5, amountOver: { threshold: 1000, delta: -15 }, bulk: { minItems: 10, delta: -10 } },
    autoAt: 85,
    quickAt: 60,
    urgentBelow: 30,
  },
});
