import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { McpServerConfig, McpToolOverride } from '../../orchestrator/tool-config.js';
import type { ToolAvailability, ToolContext, ToolDefinition } from '../../orchestrator/tools/tool.js';
import { jsonSchemaType } from './json-schema-input.js';
import type { McpToolSource } from './mcp-source.js';
import { applyOverrides, type ToolPolicy } from './tool-policy.js';

/** A tool of an MCP server as Gatehouse knows it: the server's latest listing (none while down) and the config's override. */
export interface McpToolEntry {
  readonly tool: string;
  listing: McpTool | undefined;
  readonly override: McpToolOverride | undefined;
}

const NAME = /^[A-Za-z0-9_.:-]{1,200}$/;
const ANY_OBJECT = { type: 'object' };

/**
 * What MCP annotations say when config does not: `readOnlyHint` reads (low risk), an explicit
 * `destructiveHint: false` writes (medium), anything else may delete (high) — the MCP spec's own
 * default for a tool that is not read-only is "destructive". `idempotentHint` sets idempotency.
 */
export function annotationDefaults(server: string, config: McpServerConfig, listing: McpTool | undefined): ToolPolicy {
  const a = listing?.annotations;
  const operation = a?.readOnlyHint === true ? 'read' : a?.destructiveHint === false ? 'write' : 'delete';
  return {
    description: listing?.description ?? listing?.title ?? a?.title ?? `${listing?.name ?? 'a tool'} of MCP server ${server}`,
    domain: config.domain ?? server,
    action: { category: server, operation },
    idempotent: a?.readOnlyHint === true || a?.idempotentHint === true,
    timeoutMs: config.timeoutMs ?? 30_000,
  };
}

/**
 * The ToolDefinition of one MCP tool. Its fields are getters over the entry, so a re-listing
 * (`list_changed`, a reconnect) changes schema and annotations in place: the registry keeps one
 * object per name. Undefined (the source logs it) for a name Gatehouse cannot register.
 */
export function mcpToolDefinition(source: McpToolSource, config: McpServerConfig, entry: McpToolEntry): ToolDefinition | undefined {
  const name = `${source.name}.${entry.tool}`;
  if (!NAME.test(name)) return undefined;
  let cachedFor: McpTool | undefined | null = null;
  let policy: ToolPolicy;
  let input: z.ZodType<Record<string, unknown>>;
  const current = () => {
    if (cachedFor !== entry.listing) {
      cachedFor = entry.listing;
      policy = applyOverrides(annotationDefaults(source.name, config, entry.listing), entry.override);
      input = jsonSchemaType((entry.listing?.inputSchema as Record<string, unknown> | undefined) ?? ANY_OBJECT);
    }
    return { policy, input };
  };
  const definition: ToolDefinition = {
    name,
    get description() { return current().policy.description; },
    get input() { return current().input; },
    get domain() { return current().policy.domain; },
    get action() { return current().policy.action; },
    get idempotent() { return current().policy.idempotent; },
    get timeoutMs() { return current().policy.timeoutMs; },
    get retry() { return current().policy.retry; },
    get tags() { return current().policy.tags; },
    get approval() { return current().policy.approval; },
    availability: (): ToolAvailability => {
      const a = source.availability();
      if (!a.available) return a;
      return entry.listing ? a : { available: false, reason: `MCP server ${source.name} does not offer ${entry.tool}` };
    },
    handler: (args: unknown, ctx: ToolContext) => source.call(entry, args as Record<string, unknown>, ctx, current().policy.idempotent),
  };
  return definition;
}
