import { z } from 'zod';

/** The roles a bearer token can map to; `admin` may do everything. The one list the config and the API check against. */
export const ROLES = ['viewer', 'requester', 'developer', 'tech_lead', 'devops_engineer', 'admin'] as const;

/** One of {@link ROLES}, as a schema. */
export const Role = z.enum(ROLES);
/** One of {@link ROLES}. */
export type Role = z.infer<typeof Role>;

/** One bearer token: the token itself or its SHA-256 (hex), and who it stands for. Unknown keys are refused. */
export const TokenEntry = z
  .strictObject({
    token: z.string().min(16).max(512).optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    id: z.string().min(1).max(200),
    role: Role,
    /** The profile this principal's MCP `tools/call`s run under (and `tools/list` shows); default `GATEHOUSE_MCP_PROFILE`. */
    mcpProfile: z.string().min(1).max(100).optional(),
    /** Where approval notifications reach this principal by email (notifications.channels of type email). */
    email: z.email().max(320).optional(),
    /** This principal's Slack channel or user (`#releases`, `@ann`) for Slack notifications. */
    slackChannel: z.string().regex(/^[#@]?[A-Za-z0-9._-]{1,80}$/).optional(),
  })
  .refine((t) => (t.token ? 1 : 0) + (t.sha256 ? 1 : 0) === 1, 'give either token or sha256');
/** A token entry as written (before parsing). */
export type TokenEntry = z.input<typeof TokenEntry>;
