import type { ActionFactConfig, McpToolOverride } from '../../orchestrator/tool-config.js';
import type { ActionFact, ToolAction, ToolDefinition } from '../../orchestrator/tools/tool.js';

/** The policy fields of a configured tool, after defaults (source's, then config's). */
export type ToolPolicy = Pick<ToolDefinition, 'description' | 'domain' | 'action' | 'idempotent' | 'timeoutMs' | 'retry' | 'tags' | 'approval' | 'minRisk'>;

type Overrides = Omit<McpToolOverride, 'isErrorAs'>;

/** Applies config overrides over defaults; an `environment` may be read from each call's input. */
export function applyOverrides(defaults: ToolPolicy, over: Overrides | undefined): ToolPolicy {
  if (!over) return defaults;
  const fact = (key: 'environment' | 'resource') => {
    const configured = over.action?.[key];
    const value = configured !== undefined ? factOf(configured) : defaults.action[key];
    return value === undefined ? {} : { [key]: value };
  };
  const action: ToolAction = {
    category: over.action?.category ?? defaults.action.category,
    operation: over.action?.operation !== undefined ? (factOf(over.action.operation) as ActionFact) : defaults.action.operation,
    ...fact('environment'),
    ...fact('resource'),
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
    ...(over.minRisk ?? defaults.minRisk ? { minRisk: over.minRisk ?? defaults.minRisk } : {}),
  };
}

/** A fixed value, or a reader of a dotted path of the input (`target.env`): risk is then judged per call. */
function factOf(fact: ActionFactConfig): ActionFact {
  if (typeof fact === 'string') return fact;
  const path = fact.fromInput.split('.');
  return (input) => {
    let v: unknown = input;
    for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  };
}
