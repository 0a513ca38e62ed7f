import { z } from 'zod';
import { FailureMode, RiskLevel } from '../domain/events/common.js';
import { RetryPolicy } from '../domain/run/retry.js';

/**
 * A config value that is either literal or a `{ $secret: NAME }` reference resolved when used;
 * `prefix` goes in front of the secret (`prefix: "Bearer "` for an authorization header).
 */
export const SecretOrString = z.union([
  z.string().max(10_000),
  z.strictObject({ $secret: z.string().regex(/^[A-Za-z0-9_]{1,100}$/, 'a secret name is letters, digits and _'), prefix: z.string().max(200).optional() }),
]);
export type SecretOrString = z.infer<typeof SecretOrString>;

/** An action fact fixed in config, or read from a field of each call's input (a dotted path). */
export const ActionFactConfig = z.union([z.string().min(1).max(200), z.strictObject({ fromInput: z.string().min(1).max(200) })]);
export type ActionFactConfig = z.infer<typeof ActionFactConfig>;

/** A JSON Schema object (checked by Ajv when the tool is built, not here). */
const JsonSchema = z.record(z.string(), z.unknown());

const ApprovalOverride = z.strictObject({
  eligibleRoles: z.array(z.string().min(1)).min(1),
  requiredApprovals: z.number().int().positive().optional(),
  timeoutMs: z.number().int().positive().optional(),
  justificationRequired: z.boolean().optional(),
  onTimeout: z.enum(['approve', 'deny']).optional(),
});

/** What a tool declared in config may say about its risk, idempotency, timing and gate. */
const ToolPolicyFields = {
  description: z.string().min(1).max(2_000).optional(),
  domain: z.string().min(1).max(100).optional(),
  action: z
    .strictObject({
      category: z.string().min(1).max(100).optional(),
      operation: ActionFactConfig.optional(),
      resource: ActionFactConfig.optional(),
      environment: ActionFactConfig.optional(),
    })
    .optional(),
  idempotent: z.boolean().optional(),
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
  retry: RetryPolicy.partial().optional(),
  tags: z.array(z.string().min(1)).optional(),
  approval: ApprovalOverride.optional(),
  /** The lowest risk any call is judged at, whatever the rules say. */
  minRisk: RiskLevel.optional(),
};

/** One `tools:` entry: a tool run by an HTTP endpoint. */
export const HttpToolConfig = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'letters, digits and _ . : - only'),
  ...ToolPolicyFields,
  description: z.string().min(1).max(2_000),
  url: z.url({ protocol: /^https?$/ }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a header name'), SecretOrString).default({}),
  input: JsonSchema.default({ type: 'object' }),
  output: JsonSchema.optional(),
});
export type HttpToolConfig = z.infer<typeof HttpToolConfig>;

/** Per-tool overrides of what an MCP server's listing and annotations say. */
export const McpToolOverride = z.strictObject({
  ...ToolPolicyFields,
  /** How an `isError` result counts (default AGENT: the tool said no to this input). */
  isErrorAs: FailureMode.optional(),
});
export type McpToolOverride = z.infer<typeof McpToolOverride>;

const McpCommon = {
  /** Overrides by tool name (without the server prefix); naming a tool here also lists it while the server is down. */
  tools: z.record(z.string().min(1).max(200), McpToolOverride).default({}),
  /** How long connecting and listing may take at start before the server counts as down. */
  connectTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
  /** Reconnect backoff after the server died or could not be reached. */
  reconnect: z.strictObject({ baseDelayMs: z.number().int().positive().default(250), maxDelayMs: z.number().int().positive().default(30_000) }).default({ baseDelayMs: 250, maxDelayMs: 30_000 }),
  /** Defaults for every tool of this server (a tool's override wins). */
  domain: z.string().min(1).max(100).optional(),
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
};

/** One `mcpServers:` entry: a stdio process or a Streamable HTTP endpoint whose tools Gatehouse offers. */
export const McpServerConfig = z.discriminatedUnion('transport', [
  z.strictObject({
    transport: z.literal('stdio'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a variable name'), SecretOrString).default({}),
    cwd: z.string().min(1).optional(),
    ...McpCommon,
  }),
  z.strictObject({
    transport: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a header name'), SecretOrString).default({}),
    ...McpCommon,
  }),
]);
export type McpServerConfig = z.infer<typeof McpServerConfig>;

/** `tools:` (HTTP tools) and `mcpServers:` (tool sources, keyed by the prefix their tools get). */
export const ToolSourcesConfig = {
  tools: z.array(HttpToolConfig),
  mcpServers: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a server name is letters, digits, _ and - (it prefixes its tools)'), McpServerConfig),
};
