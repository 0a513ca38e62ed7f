import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { matchesPattern } from '../domain/routing/route.js';
import type { Profile } from '../orchestrator/profiles.js';
import type { ToolDefinition } from '../orchestrator/tools/tool.js';

/** The built-in tool an agent polls a run with after the wait limit passed. */
export const RUN_STATUS_TOOL = 'gatehouse.run_status';

/** Its arguments. */
export const RunStatusArgs = z.strictObject({ runId: z.string().min(1).max(200) });

// Operations that only look: the MCP read-only hint. Everything else may change the world.
const READ_OPERATIONS = new Set(['read', 'select', 'list', 'get', 'search', 'query', 'describe']);

/** Whether the profile lets a run call the tool (the same patterns the engine checks at routing). */
export function profileAllows(profile: Profile, tool: string): boolean {
  return profile.allowedTools.some((p) => matchesPattern(p, tool));
}

/** What `tools/list` shows a caller of `profile`: the tools it may call, then `gatehouse.run_status`. */
export function listTools(tools: readonly ToolDefinition[], profile: Profile): Tool[] {
  const allowed = tools.filter((t) => profileAllows(profile, t.name)).sort((a, b) => a.name.localeCompare(b.name));
  return [...allowed.map(toMcpTool), runStatusTool];
}

/** One tool as MCP describes it: its input as JSON Schema and its action as annotations. */
export function toMcpTool(t: ToolDefinition): Tool {
  // An operation read from each call's input (db.execute's SQL verb) is not known to be read-only.
  const readOnly = typeof t.action.operation === 'string' && READ_OPERATIONS.has(t.action.operation);
  return {
    name: t.name,
    description: `${t.description}${t.approval || !readOnly ? ' Calls may wait for a human approval; progress notifications say so.' : ''}`,
    inputSchema: inputSchemaOf(t),
    annotations: { title: t.name, readOnlyHint: readOnly, destructiveHint: !readOnly, idempotentHint: t.idempotent, openWorldHint: true },
  };
}

function inputSchemaOf(t: ToolDefinition): Tool['inputSchema'] {
  try {
    const schema = z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const { $schema: _drop, ...rest } = schema;
    return { ...rest, type: 'object' } as Tool['inputSchema'];
  } catch {
    // A schema JSON Schema cannot say (transforms): any object, checked by zod when called.
    return { type: 'object' };
  }
}

const runStatusTool: Tool = {
  name: RUN_STATUS_TOOL,
  description: 'The status of a run you started through Gatehouse: its result once finished, or what it still waits for (use it after "still waiting for approval").',
  inputSchema: { type: 'object', properties: { runId: { type: 'string', description: 'the run id of the earlier call' } }, required: ['runId'], additionalProperties: false },
  annotations: { title: RUN_STATUS_TOOL, readOnlyHint: true, idempotentHint: true, openWorldHint: false },
};
