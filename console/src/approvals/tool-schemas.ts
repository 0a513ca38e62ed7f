import { useMemo } from 'react';
import { useQuery } from 'urql';
import { TOOL_SCHEMAS, type ToolSchemasData } from './queries';

/** Each tool's input JSON Schema by name (from the `tools` query), for checking edits. */
export function useToolSchemas(): ReadonlyMap<string, unknown> {
  const [result] = useQuery<ToolSchemasData>({ query: TOOL_SCHEMAS });
  return useMemo(() => new Map((result.data?.tools.edges ?? []).map((e) => [e.node.name, e.node.inputSchema])), [result.data]);
}
