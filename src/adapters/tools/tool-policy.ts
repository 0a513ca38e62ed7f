import type { ActionFactConfig, McpToolOverride } from '../../orchestrator/tool-config.js';
import type { ToolAction, ToolDefinition } from '../../orchestrator/tools/tool.js';

/** The policy fields of a configured tool, after defaults (source's, then config's). */
export type ToolPolicy = Pick<ToolDefinition, 'description' | 'domain' | 'action' | 'idempotent' | 'timeoutMs' | 'retry' | 'tags' | 'approval'>;

type Overrides = Omit<McpToolOverride, 'isErrorAs'>;

/** Applies config overrides over defaults; an `environment` may be read from each call's input. */
export function applyOverrides(defaults: ToolPolicy, over: Overrides | undefined): ToolPolicy {
  if (!over) return defaults;
  const action: ToolAction = {
    category: over.action?.category ?? defaults.action.category,
    operation: over.action?.operation ?? defaults.action.operation,
    ...(over.action?.environment !== undefined
      ? { environment: environmentOf(over.action.environment) }
      : defaults.action.environment !== undefined
        ? { environment: defaults.action.environment }
        : {}),
  };
  return {
    description: over.description ?? defaults.description,
    domain: over.domain ?? defaults.domain,
    action,
    idempotent: over.idempotent ?? defaults.idempotent,
    timeoutMs: over.timeoutMs ?? defaults.timeoutMs,
    ...(over.retry ?? defaults.retry ? { retry: over.retry ?? defaults.retry } : {}),
    ...(over.tags ?? defaults.tags ? { tags: over.tags ?? defaults.tags } : {}),
    ...(over.approval ?? defaults.approval ? { approval: over.approval ?? defaults.approval } : {}),
  };
}

/** A fixed value, or a reader of a dotted path of the input (`target.env`). */
function environmentOf(fact: ActionFactConfig): ToolAction['environment'] {
  if (typeof fact === 'string') return fact;
  const path = fact.fromInput.split('.');
  return (input) => {
    let v: unknown = input;
    for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  };
}
