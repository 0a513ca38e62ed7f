import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RiskLevel } from '../domain/events/common.js';
import { ApprovalPolicyConfig, defaultApprovalPolicy } from '../domain/approvals/policy-config.js';
import { ApproverRule, DEFAULT_SIGNATURE_HEADER, DEFAULT_TIMESTAMP_HEADER, isAllowedApproverUrl } from '../domain/approvals/automated-approvers.js';
import { ROLES, TokenEntry } from '../domain/roles.js';
import { defaultNotificationsConfig, NotificationsConfig, notificationConfigProblems } from '../domain/notifications/config.js';
import { Playbook, Profile, WorkerConfig, defaultProfiles, defaultWorkers } from './profiles.js';
import { ToolSourcesConfig } from './tool-config.js';

/** `{ $secret: NAME }`: a value looked up at use (GATEHOUSE_SECRET_<NAME>), never written in the file. */
const SecretRef = z.strictObject({ $secret: z.string().min(1).max(200) });

/** What any automated approver may do: approve up to `maxRisk` (never critical), never for whom it acts for. */
const ApproverLimits = {
  maxRisk: RiskLevel.default('medium').refine((l) => l !== 'critical', 'no automated approver may approve critical risk (high at most)'),
  /** Principals it acts on behalf of (its owner, the team running it): it may not approve their requests. */
  actsFor: z.array(z.string().min(1)).default([]),
};

const AutomatedApproverConfig = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('rules'),
    name: z.string().min(1),
    ...ApproverLimits,
    // Approving because of who asked is self-approval written into the config.
    rules: z.array(ApproverRule.refine((r) => !(r.decision === 'approve' && r.when.requester), { message: 'a rule may not approve because of who asked (use approvals.confidence.trustedRequesters to lower the review level instead)', path: ['when', 'requester'] })),
  }),
  z.strictObject({
    type: z.literal('webhook'),
    name: z.string().min(1),
    ...ApproverLimits,
    url: z.url().refine(isAllowedApproverUrl, 'must be https (plain http only to localhost, 127.0.0.1 or ::1)'),
    timeoutMs: z.number().int().positive().default(5_000),
    /** The HMAC-SHA256 key the requests are signed with. */
    secret: SecretRef,
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.union([z.string(), SecretRef])).default({}),
    signatureHeader: z.string().regex(/^[A-Za-z0-9-]+$/).default(DEFAULT_SIGNATURE_HEADER),
    timestampHeader: z.string().regex(/^[A-Za-z0-9-]+$/).default(DEFAULT_TIMESTAMP_HEADER),
  }),
]);

/** Everything `gatehouse.yaml` can say. Every field has a default: an empty file is a valid config. */
export const GatehouseConfig = z.strictObject({
  approvals: ApprovalPolicyConfig,
  automatedApprovers: z.array(AutomatedApproverConfig),
  /** Channels, addressing rules, reminders and retries of approval notifications (src/domain/notifications/). */
  notifications: NotificationsConfig,
  auth: z.strictObject({
    /**
     * Bearer tokens (or their SHA-256) and who they stand for. Without an admin among them, the
     * server makes an admin token at first start.
     */
    tokens: z.array(TokenEntry),
  }),
  profiles: z.record(z.string(), Profile),
  workers: z.array(WorkerConfig).min(1),
  playbooks: z.array(Playbook),
  /** Extra key patterns redacted before anything is stored (substrings or /regex/). */
  sensitiveKeys: z.array(z.string()),
  /** HTTP tools (`tools:`) and MCP servers whose tools Gatehouse offers (`mcpServers:`); see tool-config.ts. */
  ...ToolSourcesConfig,
  /**
   * How long the read models keep finished runs. `finishedRunsDays`: runs over for good (SUCCEEDED,
   * PARTIAL, CANCELLED) that ended longer ago leave `runs(...)` and the per-run read models; the
   * log keeps them (`run(runId)` folds them from it). Absent: keep every run.
   */
  retention: z.strictObject({
    finishedRunsDays: z.number().positive('must be a positive number of days').max(36_500, 'must be at most 36,500 days').optional(),
  }),
}).superRefine(knownRoles).superRefine(knownAddressees);
export type GatehouseConfig = z.infer<typeof GatehouseConfig>;

/**
 * Every role the approval policy names must be one a token can hold: a typo (`devops`) would
 * otherwise make a gate nobody can open, or an escalation that reaches nobody.
 */
function knownRoles(config: { approvals: ApprovalPolicyConfig }, ctx: z.RefinementCtx): void {
  const known: readonly string[] = ROLES;
  const check = (role: string, path: Array<string | number>) => {
    if (!known.includes(role)) ctx.addIssue({ code: 'custom', path, message: `unknown role "${role}" (known: ${known.join(', ')})` });
  };
  for (const [level, policy] of Object.entries(config.approvals.levels)) {
    policy.eligibleRoles.forEach((r, i) => check(r, ['approvals', 'levels', level, 'eligibleRoles', i]));
  }
  for (const [role, policy] of Object.entries(config.approvals.roles)) {
    check(role, ['approvals', 'roles', role]);
    policy.escalateTo.forEach((r, i) => check(r, ['approvals', 'roles', role, 'escalateTo', i]));
  }
}

/** Notification rules name channels, roles and principals that exist, and leases outlast sends. */
function knownAddressees(config: { notifications: NotificationsConfig; auth: { tokens: Array<{ id: string; role: string; email?: string; slackChannel?: string }> } }, ctx: z.RefinementCtx): void {
  for (const p of notificationConfigProblems(config.notifications, ROLES, config.auth.tokens)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
}

export const defaultConfig: GatehouseConfig = {
  approvals: defaultApprovalPolicy,
  automatedApprovers: [],
  notifications: defaultNotificationsConfig,
  auth: { tokens: [] },
  profiles: defaultProfiles,
  workers: defaultWorkers,
  playbooks: [],
  sensitiveKeys: [],
  tools: [],
  mcpServers: {},
  retention: {},
};

/** A config that does not validate: the message names the file and every bad path. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads `gatehouse.yaml` (or defaults when no path is given): the file's values are merged over the
 * defaults (objects key by key, lists replaced whole), then validated; unknown keys are errors.
 */
export function loadConfig(path?: string): GatehouseConfig {
  if (!path) return defaultConfig;
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`);
  }
  return parseConfig(raw, path);
}

/** Validates a config object merged over the defaults. */
export function parseConfig(raw: unknown, source = 'config'): GatehouseConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${source}: the top level must be a mapping`);
  const result = GatehouseConfig.safeParse(merge(defaultConfig, raw));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${source} is invalid:\n${lines.join('\n')}`);
  }
  return result.data;
}

function merge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k], v) : v;
    return out;
  }
  return over === undefined ? base : over;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
